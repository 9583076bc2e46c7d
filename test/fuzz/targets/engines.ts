/**
 * The real service engines as the fuzz targets build them: the `host` target (layers.ts
 * `HOST_ENGINES`) and the per-engine targets of services.ts. Kept apart from both so that
 * neither imports the other.
 */
import { compileConfig } from "../../../src/config/compile.js";
import { CfgEngine } from "../../../src/core/cfg/cfg.js";
import { CmapEngine } from "../../../src/core/cmap/engine.js";
import { CmapStore } from "../../../src/core/cmap/store.js";
import { CmapType } from "../../../src/core/cmap/types.js";
import { CpgEngine } from "../../../src/core/cpg/engine.js";
import { QuorumService } from "../../../src/core/quorum/quorum-service.js";
import { VoteQuorum } from "../../../src/core/quorum/votequorum.js";
import type { ServiceApi, ServiceEngine } from "../../../src/core/services/types.js";

let vqEntries: ReturnType<typeof compileConfig> | undefined;

/** A fresh cmap holding a three-node votequorum configuration (compiled once). */
export function vqCmap(extra: number): CmapStore {
  vqEntries ??= compileConfig({
    file: "corosync.conf",
    text:
      "totem {\n version: 2\n cluster_name: fuzz\n transport: udpu\n}\nnodelist {\n" +
      [1, 2, 3].map((id) => ` node {\n  ring0_addr: 10.1.1.${id}\n  nodeid: ${id}\n  quorum_votes: 1\n }\n`).join("") +
      "}\nquorum {\n provider: corosync_votequorum\n}\n",
  });
  if (!vqEntries.ok) throw new Error(`votequorum fuzz config: ${vqEntries.diagnostics.map((d) => d.message).join("; ")}`);
  const cmap = new CmapStore();
  for (const e of vqEntries.cmapEntries) cmap.set(e.key, e.value, { force: true });
  cmap.set("nodelist.local_node_pos", { type: CmapType.UINT32, value: 0 }, { force: true });
  // Per episode, some of corosync's options (rng bits): they change which paths hostile input reaches.
  const opt = (key: string, on: boolean): void => void (on && cmap.set(`quorum.${key}`, { type: CmapType.UINT8, value: 1 }, { force: true }));
  opt("wait_for_all", (extra & 1) !== 0);
  // auto_tie_breaker with last_man_standing is refused in an odd-sized cluster: one or the other.
  opt("last_man_standing", (extra & 2) !== 0 && (extra & 16) === 0);
  opt("expected_votes_tracking", (extra & 4) !== 0);
  opt("allow_downscale", (extra & 8) !== 0);
  if ((extra & 16) !== 0) cmap.set("quorum.auto_tie_breaker", { type: CmapType.UINT8, value: 1 }, { force: true });
  return cmap;
}

/** A votequorum engine of node 1 in the three-node configuration, started (`init`). */
export function startedVoteQuorum(api: ServiceApi, options = 0): VoteQuorum {
  const vq = new VoteQuorum({ api, cmap: vqCmap(options), evTracking: { load: () => 0, save: () => {} } });
  const err = vq.init();
  if (err !== undefined) throw new Error(`votequorum fuzz config refused: ${err}`);
  return vq;
}

/** cmap, cfg, cpg, quorum and votequorum, for a ServiceHost of node 1. */
export const REAL_ENGINES: Array<(api: ServiceApi) => ServiceEngine> = [
  (api) => new CmapEngine({ api, store: new CmapStore(), requestShutdown: () => {} }),
  (api) => new CfgEngine(api, { reloadConfig: () => {}, ringReenable: () => {}, killed: () => {}, shutdown: () => {} }),
  (api) => new CpgEngine({ api }),
  (api) => new QuorumService(api, true),
  (api) => startedVoteQuorum(api),
];
