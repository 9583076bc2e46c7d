import { DecodeError } from "./errors.js";

/**
 * A bounds-checked reader over a byte array (style.md "Bytes are hostile"). Every read checks
 * the remaining length first and throws a `DecodeError` (never a RangeError). The byte order
 * is fixed per reader: corosync senders write native order and the receiver detects it from
 * the header magic (totem-spec §1.1).
 */
export class Reader {
  readonly view: DataView;
  offset = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian = true,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  need(n: number, field: string): void {
    if (n > this.remaining) throw new DecodeError("TRUNCATED", field);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.offset++);
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.view.getUint16(this.offset, this.littleEndian);
    this.offset += 2;
    return v;
  }

  i16(field: string): number {
    this.need(2, field);
    const v = this.view.getInt16(this.offset, this.littleEndian);
    this.offset += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.offset, this.littleEndian);
    this.offset += 4;
    return v;
  }

  i32(field: string): number {
    this.need(4, field);
    const v = this.view.getInt32(this.offset, this.littleEndian);
    this.offset += 4;
    return v;
  }

  u64(field: string): bigint {
    this.need(8, field);
    const v = this.view.getBigUint64(this.offset, this.littleEndian);
    this.offset += 8;
    return v;
  }

  /** A sub-array view (no copy) of the next `n` bytes. */
  bytesView(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.offset += n;
  }

  /**
   * Read an unsigned count and check it against a named limit before anyone multiplies it;
   * also checks that `count * unitSize` bytes remain.
   */
  count(field: string, limit: number, unitSize: number, raw?: number): number {
    const c = raw ?? this.u32(field);
    if (c > limit) throw new DecodeError("COUNT_LIMIT", field, `${field} = ${c} exceeds limit ${limit}`);
    if (c * unitSize > this.remaining) throw new DecodeError("TRUNCATED", field);
    return c;
  }

  /** Reject trailing bytes: a message must end exactly where its fields say. */
  end(what: string): void {
    if (this.remaining !== 0) throw new DecodeError("TRAILING_BYTES", what, `${this.remaining} trailing bytes after ${what}`);
  }
}
