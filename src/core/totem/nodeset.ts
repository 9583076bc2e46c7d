/**
 * Set algebra over processor lists (totem-spec §4.3), as corosync's `memb_set_*` helpers:
 * lists are arrays of nodeids in insertion order (the order goes on the wire in JOIN
 * messages), compared as sets. Lists are short (≤ 384), so linear scans are fine.
 */
export type NodeList = number[];

/** `memb_set_equal`: same members, any order (lists hold no duplicates). */
export function setEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (const x of b) if (!a.includes(x)) return false;
  return true;
}

/** `memb_set_subset`: every member of `sub` is in `full`. */
export function isSubset(sub: readonly number[], full: readonly number[]): boolean {
  if (sub.length > full.length) return false;
  for (const x of sub) if (!full.includes(x)) return false;
  return true;
}

/** `memb_set_merge`: append the members of `add` that `into` lacks (mutates `into`). */
export function mergeInto(into: number[], add: readonly number[]): void {
  for (const x of add) if (!into.includes(x)) into.push(x);
}

/** `memb_set_subtract`: members of `a` not in `b`, in `a`'s order. */
export function subtract(a: readonly number[], b: readonly number[]): number[] {
  return a.filter((x) => !b.includes(x));
}

/** True if the list holds a value twice. */
export function hasDuplicates(list: readonly number[]): boolean {
  return new Set(list).size !== list.length;
}

export function sortedAscending(list: readonly number[]): number[] {
  return [...list].sort((x, y) => x - y);
}
