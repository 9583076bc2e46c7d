/**
 * Test helper: read votequorum state from running executives through our client library
 * (each node's IPC prefix) and wait, with a generous deadline, until nodes show a given
 * `total/expected/quorum Q|-` view (the notation of totem-spec §7.3's reference table).
 */
import { VotequorumClient, VQ_INFO } from "../../src/client/votequorum.js";
import type { DaemonCluster, DaemonNode } from "./daemons.js";

/** `total/expected/quorum` plus ` Q` or ` -`, read from the node's own getinfo. */
export async function vqView(node: DaemonNode): Promise<string> {
  const vq = await VotequorumClient.connect({ ...(node.ipcPrefix !== undefined ? { prefix: node.ipcPrefix } : {}), connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
  try {
    const i = await vq.getInfo(0);
    return `${i.totalVotes}/${i.expectedVotes}/${i.quorum}${i.flags & VQ_INFO.QUORATE ? " Q" : " -"}`;
  } finally {
    await vq.close();
  }
}

/**
 * Wait until every node in `ids` shows `expected` (all must agree at once). Throws with the
 * last views seen and the cluster's recent logs.
 */
export async function waitViews(cluster: DaemonCluster, ids: number[], expected: string | ((id: number) => string | string[]), timeoutMs = 20_000): Promise<void> {
  const want = (id: number): string[] => {
    const e = typeof expected === "function" ? expected(id) : expected;
    return Array.isArray(e) ? e : [e];
  };
  const start = Date.now();
  let last: string[] = [];
  for (;;) {
    last = [];
    let ok = true;
    for (const id of ids) {
      let v: string;
      try {
        v = await vqView(cluster.node(id));
      } catch (e) {
        v = `error ${(e as Error).message}`;
      }
      last.push(`${id}:${v}`);
      if (!want(id).includes(v)) ok = false;
    }
    if (ok) return;
    if (Date.now() - start > timeoutMs) {
      throw new Error(`timed out waiting for ${ids.map((id) => `${id}:${want(id).join("|")}`).join(" ")}; last seen ${last.join(" ")}\n${cluster.describe()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
