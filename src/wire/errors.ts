/**
 * Bad network input (style.md "Errors, three kinds", kind 1). A decoder never throws anything
 * but a `DecodeError`, and the wire layer catches it: the driver drops the frame and counts it
 * by `code`.
 */
export type DecodeErrorCode =
  | "TRUNCATED" // fewer bytes than a field or a count needs
  | "TRAILING_BYTES" // more bytes than the message describes
  | "BAD_MAGIC" // not 0xC070 in either byte order
  | "BAD_VERSION" // header version is not 3
  | "BAD_TYPE" // unknown message type
  | "COUNT_LIMIT" // a count read off the wire is above its named limit
  | "TOO_LONG" // a frame longer than its type allows
  | "BAD_VALUE" // a field whose value is impossible (e.g. negative count, bad enum)
  | "BAD_LENGTHS"; // length fields that do not add up (totempg, groups)

export class DecodeError extends Error {
  override readonly name = "DecodeError";
  constructor(
    readonly code: DecodeErrorCode,
    /** Which field or rule failed, e.g. "orf_token.rtr_list_entries". */
    readonly field: string,
    message?: string,
  ) {
    // A DecodeError describes a dropped frame, not a bug: its call stack tells nothing, and
    // capturing one more than doubles the cost of rejecting a frame on Node 20 (measured
    // ~8 µs → ~3.5 µs per rejected token, more than receiving the datagram costs), which a
    // flood of bad frames would exploit. Skip the capture (V8's stackTraceLimit).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? `${code} at ${field}`);
    Error.stackTraceLimit = limit;
  }
}

/** The outcome of a decode that must not throw past the wire layer. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

/**
 * Run a decoder and return its `DecodeError` instead of throwing it (style.md "Bytes are
 * hostile": nothing from the network throws past the wire layer). Any other exception is a
 * bug and propagates.
 */
export function tryDecode<T>(decode: () => T): Decoded<T> {
  try {
    return { ok: true, value: decode() };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: e };
    throw e;
  }
}
