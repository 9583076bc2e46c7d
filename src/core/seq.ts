/**
 * Sequence-number arithmetic exactly as corosync's `include/corosync/sq.h`
 * (totem-spec §1.1): message seqs are u32 that wrap. If either operand is above
 * 0x80000000 both are shifted down by 0x10000 in u32 arithmetic before a plain comparison.
 * This is what makes the initial token's `aru = 0xFFFFFFFF` compare below seq 0.
 */

/** u32 message sequence number on one ring (branded so it is not mixed with counts). */
export type Seq = number & { readonly __brand?: "Seq" };

export const SEQ_MASK = 0xffffffff;

/** Wrap a number into u32 range. */
export function u32(n: number): number {
  return n >>> 0;
}

function shifted(a: number, b: number): [number, number] {
  if (a > 0x80000000 || b > 0x80000000) {
    return [(a - 0x10000) >>> 0, (b - 0x10000) >>> 0];
  }
  return [a, b];
}

/** `sq_lt_compare(a, b)`: a < b under corosync's wrap rule. */
export function seqLt(a: Seq, b: Seq): boolean {
  const [x, y] = shifted(a >>> 0, b >>> 0);
  return x < y;
}

/** `sq_lte_compare(a, b)`: a <= b under corosync's wrap rule. */
export function seqLte(a: Seq, b: Seq): boolean {
  const [x, y] = shifted(a >>> 0, b >>> 0);
  return x <= y;
}

/** a + n in u32 arithmetic. */
export function seqAdd(a: Seq, n: number): Seq {
  return (a + n) >>> 0;
}
