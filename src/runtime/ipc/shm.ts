/**
 * The files of libqb's SHM transport (libqb-ipc-spec.md §1.5): the server creates, per
 * connection, `/dev/shm/qb-<serverpid>-<clientpid>-<fd>-XXXXXX/` with three rings
 * (`qb-request-<svc>`, `qb-response-<svc>`, `qb-event-<svc>`, each `-header` + `-data`);
 * the client opens them by the names in the setup reply. Also: removal of stale directories
 * left by dead servers.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { nativeAddon } from "./native.js";
import { HDR, dataFileSize } from "./ring-index.js";
import { ShmRing } from "./ringbuffer.js";

/** Where libqb puts its files on Linux. */
export const SHM_DIR = "/dev/shm";

/** The three rings of one connection. */
export interface ConnectionRings {
  request: ShmRing;
  response: ShmRing;
  event: ShmRing;
}

/** What the server made for one connection. */
export interface ServerShm extends ConnectionRings {
  /** The connection's directory (removed by `destroyServerShm`). */
  dir: string;
  /** Ring base names for the setup reply. */
  names: { request: string; response: string; event: string };
}

/** Directories of live connections made by this process (stale-cleanup must spare them). */
const liveDirs = new Set<string>();

export interface CreateServerShmOptions {
  serverPid: number;
  clientPid: number;
  /** The server-side descriptor of the setup socket (part of the directory name). */
  fd: number;
  /** Service name as it appears in file names (`cmap`, or `<prefix>-cmap`). */
  service: string;
  /** Owner for the directory and files (the peer), or undefined to keep ours. */
  owner?: { uid: number; gid: number };
  maxMsgSize: number;
  /** Default /dev/shm (tests may use another tmpfs directory). */
  shmDir?: string;
}

function writePath(header: ArrayBuffer, off: number, path: string): void {
  const enc = new TextEncoder().encode(path);
  if (enc.byteLength >= HDR.pathMax) throw new RangeError(`path too long: ${path}`);
  new Uint8Array(header, off, HDR.pathMax).set(enc);
}

/** Creates one ring (header + data file) as a libqb server does and maps it. */
function createRing(name: string, opts: CreateServerShmOptions): ShmRing {
  const native = nativeAddon();
  const create = { mode: 0o600, uid: opts.owner?.uid ?? -1, gid: opts.owner?.gid ?? -1 };
  const hdrPath = `${name}-header`;
  const dataPath = `${name}-data`;
  const dataSize = dataFileSize(opts.maxMsgSize, native.constants.pageSize);
  const header = native.mapFile(hdrPath, HDR.sizeWithUserData, create);
  let data: ArrayBuffer;
  try {
    const dv = new DataView(header);
    dv.setUint32(HDR.writePt, 0, true);
    dv.setUint32(HDR.readPt, 0, true);
    dv.setUint32(HDR.wordSize, dataSize / 4, true);
    writePath(header, HDR.hdrPath, hdrPath);
    writePath(header, HDR.dataPath, dataPath);
    native.semInit(header, HDR.sem, 1, 0);
    data = native.mapFile(dataPath, dataSize, create);
  } catch (e) {
    native.unmap(header);
    throw e;
  }
  new DataView(header).setInt32(HDR.refCount, 1, true);
  return new ShmRing({ header, data }, opts.maxMsgSize, hdrPath);
}

/**
 * Makes a connection's directory and its three rings, owned by the peer when `owner` is given
 * (so an admitted non-root client can open them). On failure everything made is removed and
 * the error (with a `code` such as ENOSPC, EMFILE) is rethrown.
 */
export function createServerShm(opts: CreateServerShmOptions): ServerShm {
  const base = opts.shmDir ?? SHM_DIR;
  const dir = mkdtempSync(join(base, `qb-${opts.serverPid}-${opts.clientPid}-${opts.fd}-`));
  liveDirs.add(dir);
  const made: ShmRing[] = [];
  try {
    chmodSync(dir, 0o770);
    if (opts.owner) chownSync(dir, opts.owner.uid, opts.owner.gid);
    const prefix = join(dir, "qb");
    const names = {
      request: `${prefix}-request-${opts.service}`,
      response: `${prefix}-response-${opts.service}`,
      event: `${prefix}-event-${opts.service}`,
    };
    const request = createRing(names.request, opts);
    made.push(request);
    const response = createRing(names.response, opts);
    made.push(response);
    const event = createRing(names.event, opts);
    made.push(event);
    return { dir, names, request, response, event };
  } catch (e) {
    for (const r of made) r.close();
    removeDir(dir);
    throw e;
  }
}

/** Unmaps the rings and removes the directory with its files (idempotent, never throws). */
export function destroyServerShm(shm: ServerShm): void {
  for (const r of [shm.request, shm.response, shm.event]) {
    try {
      r.close();
    } catch {
      /* already gone */
    }
  }
  removeDir(shm.dir);
}

function removeDir(dir: string): void {
  liveDirs.delete(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* a concurrent cleanup won the race */
  }
}

/**
 * Client side: opens the three rings named in a setup reply, maps them (the data file once)
 * and adds one to each reference count, as a libqb client does. `maxMsgSize` is the granted
 * size from the reply; it fixes the data file size. Throws with the errno code of the failing
 * open or map (everything opened so far is unmapped again).
 */
export function openClientShm(names: { request: string; response: string; event: string }, maxMsgSize: number): ConnectionRings {
  const native = nativeAddon();
  const dataSize = dataFileSize(maxMsgSize, native.constants.pageSize);
  const opened: ShmRing[] = [];
  const open = (name: string, headerLen: number): ShmRing => {
    const header = native.mapFile(`${name}-header`, headerLen);
    let data: ArrayBuffer;
    try {
      const words = new DataView(header).getUint32(HDR.wordSize, true);
      if (words * 4 !== dataSize) {
        const err = new Error(`${name}: ring of ${words * 4} bytes, expected ${dataSize} for max message ${maxMsgSize}`) as Error & { code: string };
        err.code = "EPROTO";
        throw err;
      }
      data = native.mapFile(`${name}-data`, dataSize);
    } catch (e) {
      native.unmap(header);
      throw e;
    }
    const ring = new ShmRing({ header, data }, maxMsgSize, `${name}-header`);
    opened.push(ring);
    return ring;
  };
  try {
    const request = open(names.request, HDR.sizeWithUserData);
    const response = open(names.response, HDR.size);
    const event = open(names.event, HDR.size);
    for (const r of opened) r.incrementRefCount();
    return { request, response, event };
  } catch (e) {
    for (const r of opened) r.close();
    throw e;
  }
}

/** True if a process with this pid exists in our pid namespace and is not a zombie. */
export function pidAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return existsSync(`/proc/${pid}`);
  }
}

const QB_DIR_RE = /^qb-(\d+)-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * Removes `qb-<serverpid>-…` connection directories whose server is dead (no /proc/<pid>),
 * and those of this very process that no live connection of ours owns (left by an earlier
 * process that had our pid). Never touches a directory whose server pid is another live
 * process. Returns the directories removed.
 */
export function cleanStaleShmDirs(shmDir: string = SHM_DIR): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(shmDir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = QB_DIR_RE.exec(name);
    if (!m) continue;
    const serverPid = Number(m[1]);
    const path = join(shmDir, name);
    const ours = serverPid === process.pid;
    if ((ours && !liveDirs.has(path)) || (!ours && !pidAlive(serverPid))) {
      removeDir(path);
      removed.push(path);
    }
  }
  return removed;
}

/** Number of connection directories this process currently owns. */
export function liveShmDirCount(): number {
  return liveDirs.size;
}
