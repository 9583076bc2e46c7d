/**
 * A little-endian writer into one pre-sized buffer (one allocation per message, as in
 * compact-encoding). Codecs compute the exact size first, then write.
 */
export class Writer {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  offset = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(v: number): this {
    this.view.setUint8(this.offset, v);
    this.offset += 1;
    return this;
  }

  u16(v: number): this {
    this.view.setUint16(this.offset, v, true);
    this.offset += 2;
    return this;
  }

  i16(v: number): this {
    this.view.setInt16(this.offset, v, true);
    this.offset += 2;
    return this;
  }

  u32(v: number): this {
    this.view.setUint32(this.offset, v >>> 0, true);
    this.offset += 4;
    return this;
  }

  i32(v: number): this {
    this.view.setInt32(this.offset, v | 0, true);
    this.offset += 4;
    return this;
  }

  u64(v: bigint): this {
    this.view.setBigUint64(this.offset, BigInt.asUintN(64, v), true);
    this.offset += 8;
    return this;
  }

  raw(b: Uint8Array): this {
    this.bytes.set(b, this.offset);
    this.offset += b.byteLength;
    return this;
  }

  zeros(n: number): this {
    this.offset += n; // the buffer is zero-filled at allocation
    return this;
  }

  /** The written bytes; asserts the size computed up front was exact. */
  finish(): Uint8Array {
    if (this.offset !== this.bytes.byteLength) {
      throw new Error(`Writer: wrote ${this.offset} of ${this.bytes.byteLength} bytes`);
    }
    return this.bytes;
  }
}
