/**
 * Bugs the fuzzer found in code owned by other developers and reported to them, not fixed
 * on this branch. A violation that matches an entry is counted under the entry's id ("known")
 * instead of failing the run, so the bounded run in `npm test` stays green while the report
 * is open and the fuzzer keeps looking for other bugs behind it.
 *
 * When a bug is fixed, delete its entry: from then on the same oracle fails the run if the
 * bug comes back. `npm run fuzz -- --strict` treats known issues as failures.
 */

export interface KnownIssue {
  /** Short id, printed in reports (e.g. "pg-assembly-per-nodeid"). */
  id: string;
  /** Targets where it shows. */
  targets: readonly string[];
  /** Oracle ids (`ctx.check(…, id, …)`) whose violations are this issue. */
  oracles?: readonly string[];
  /** Narrows `oracles`: only violations whose message this accepts are this issue. */
  message?: (text: string) => boolean;
  /** Matches an exception thrown by the code under test that is this issue. */
  error?: (e: unknown) => boolean;
  /** One paragraph: file, input, what happens (the report). */
  summary: string;
}

export const KNOWN_ISSUES: readonly KnownIssue[] = [];

/** A node's view as the srp target's liveness reports print it (targets/srp.ts `views`). */
export interface NodeView {
  id: number;
  state: string;
  members: number[];
  failed: number[];
  setRetransFlg: boolean;
  aruAddr: number | undefined;
  retransFlg: number | undefined;
}

function ids(list: string): number[] {
  return list === "" ? [] : list.split(",").map(Number);
}

/** The node views in an srp liveness report (for an entry's `message` matcher). */
export function nodeViews(text: string): NodeView[] {
  const re =
    /node (\d+) (\w+) members \[([^\]]*)\] new \[([^\]]*)\]: proc \[[^\]]*\] failed \[([^\]]*)\][^;]*; set_retrans_flg (\w+) [^;]*; (?:last token seq \w+ aru \w+ aru_addr (\d+) retrans_flg (-?\d+)|no token)/g;
  const out: NodeView[] = [];
  for (const m of text.matchAll(re)) {
    out.push({
      id: Number(m[1]),
      state: m[2]!,
      members: [...ids(m[3]!), ...ids(m[4]!)],
      failed: ids(m[5]!),
      setRetransFlg: m[6] === "true",
      aruAddr: m[7] !== undefined ? Number(m[7]) : undefined,
      retransFlg: m[8] !== undefined ? Number(m[8]) : undefined,
    });
  }
  return out;
}

/** The known issue a failed oracle check is, if any. */
export function knownOracle(target: string, oracleId: string, message: string): KnownIssue | undefined {
  return KNOWN_ISSUES.find((k) => k.targets.includes(target) && (k.oracles ?? []).includes(oracleId) && (k.message === undefined || k.message(message)));
}

/** The known issue an exception is, if any. */
export function knownError(target: string, e: unknown): KnownIssue | undefined {
  return KNOWN_ISSUES.find((k) => k.targets.includes(target) && k.error !== undefined && k.error(e));
}
