/**
 * Invariant checks that stay on in production (style.md "Errors, three kinds").
 *
 * An `AssertionError` means the process's own state is corrupt: the daemon logs it, dumps
 * its blackbox and exits non-zero rather than run on. Nothing read off the network may be
 * able to reach an assertion: wire input is rejected with a `DecodeError` first.
 */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
  readonly code = "ERR_ASSERTION";
}

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Exhaustiveness helper for `switch` over a union. */
export function assertNever(value: never, what = "value"): never {
  throw new AssertionError(`unexpected ${what}: ${String(value)}`);
}
