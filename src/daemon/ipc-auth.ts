/**
 * Who may use the executive's IPC (corosync `ipc_glue.c`, the installation guide's
 * "uidgid.d"): uid 0 or gid 0 always; otherwise a uid or gid listed in cmap as
 * `uidgid.uid.<n>`, `uidgid.gid.<n>`, `uidgid.config.uid.<n>` or `uidgid.config.gid.<n>`
 * (from `uidgid` sections of corosync.conf, files in `uidgid.d`, or set at runtime).
 */
import type { CmapStore } from "../core/cmap/store.js";

export interface PeerIdentity {
  pid: number;
  uid: number;
  gid: number;
}

export function ipcAllowed(cmap: CmapStore, cred: PeerIdentity): boolean {
  if (cred.uid === 0 || cred.gid === 0) return true;
  for (const key of [`uidgid.uid.${cred.uid}`, `uidgid.config.uid.${cred.uid}`, `uidgid.gid.${cred.gid}`, `uidgid.config.gid.${cred.gid}`]) {
    const v = cmap.get(key);
    if (v !== undefined && v.type !== 11 && v.type !== 12 && Number(v.value) !== 0) return true;
  }
  return false;
}
