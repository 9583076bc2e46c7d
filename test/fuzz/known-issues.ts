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

export const KNOWN_ISSUES: readonly KnownIssue[] = [
  {
    id: "srp-orphan-retrans-flg",
    targets: ["srp"],
    oracles: ["srp-liveness"],
    message: (text) => {
      const v = nodeViews(text).filter((x) => x.state === "RECOVERY");
      return v.length > 0 && v.some((x) => x.retransFlg !== undefined && x.retransFlg !== 0) && v.every((x) => !x.setRetransFlg);
    },
    summary:
      "src/core/totem/token.ts recoveryInstallRule: only the processor that set the token's retrans_flg clears it, " +
      "and the install needs two rotations with the flag at 0. A forged ORF token in RECOVERY carrying the new " +
      "ring id, token_seq + 1 and retrans_flg 1 (or any value other than 0) has no owner: the flag is never " +
      "cleared and the ring stays in RECOVERY for ever while the token circulates, so no token loss ends it " +
      "(2 nodes, 57-byte frame 70c00300 0002000000 00000000 00000000 <token_seq+1> 00000000 00000000 <ring id> " +
      "00000000 00000000 01000000 00000000: both nodes still in RECOVERY 60 s later; with retrans_flg 0 the ring " +
      "installs). Corosync has the same rule. Fix: treat a flag no member owns as 0 (e.g. clear it when it is " +
      "set and my retransmit queue is empty and I did not set it for a full rotation), and refuse values other than 0/1.",
  },
];

/** A node's view as the srp target's liveness reports print it (targets/srp.ts `views`). */
interface NodeView {
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

function nodeViews(text: string): NodeView[] {
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
