/**
 * libqb's blackbox file ("flight data", what corosync writes to `<state_dir>/fdata-*` and
 * Debian's `qb-blackbox` prints), written and read without libqb (libqb 2.0.6
 * `lib/log_blackbox.c`, `lib/ringbuffer.c`, `lib/log_format.c`). Pure: bytes in, bytes out.
 *
 * File layout (all little-endian u32 unless said):
 *   "new format" header (20): word_size 0, read_pt 0xCCBBCCBB, write_pt 0xBBCCBBCC,
 *                              version 2, hash 0 — says records carry a `timespec`
 *   ring header (20): word_size, write_pt, read_pt, version 1, hash = the sum of those four (mod 2^32)
 *   ring data: word_size words
 * Ring chunks (as in the IPC rings): at word p the data size in bytes, at p+1 the magic
 * 0xA1A1A1A1, data from p+2; the next chunk is at p + 2 + ceil(size / 4) (mod word_size);
 * a reader starts at read_pt and stops at write_pt. A record (chunk data):
 *   lineno u32 · tags u32 · priority u8 · fn_size u32 · function (fn_size bytes, NUL
 *   included) · timespec {tv_sec i64, tv_nsec i64} · msg_len u32 · message (msg_len bytes)
 * The message is libqb's serialized printf: the format string and its NUL, then each
 * argument in turn (int 4 bytes, long / long long / size_t / pointer 8, double 8, char 1,
 * string with its NUL). We write every message as format `%s` with the text as argument,
 * so text containing `%` survives. `qb-blackbox` refuses messages over 512 bytes
 * (`QB_LOG_MAX_LEN`), so texts are cut to fit.
 *
 * The reader accepts files written by libqb itself (any format string; conversions it does
 * not know are shown raw) and is bounded: hostile files give a `BlackboxFormatError`, never
 * a loop or an out-of-range read.
 */

/** A record as the blackbox keeps it. */
export interface BlackboxRecord {
  /** Source line (0 when unknown). */
  lineno: number;
  /** libqb tags; corosync puts the logsys subsystem id here. */
  tags: number;
  /** syslog priority 0..7, 8 = trace. */
  priority: number;
  /** Function name (we put the subsystem when the function is unknown). */
  fn: string;
  /** Seconds and nanoseconds since the epoch. */
  sec: number;
  nsec: number;
  /** The formatted text. */
  message: string;
}

export class BlackboxFormatError extends Error {
  override readonly name = "BlackboxFormatError";
}

/** `QB_LOG_MAX_LEN`: the longest serialized message a reader accepts. */
export const QB_LOG_MAX_LEN = 512;
const NEW_HEADER = [0, 0xccbbccbb, 0xbbccbbcc, 2, 0] as const;
const RB_FILE_VERSION = 1;
const CHUNK_MAGIC = 0xa1a1a1a1;
/** libqb's `QB_RB_CHUNK_MARGIN`: chunk header words + 1, in bytes (reserve in the ring). */
const CHUNK_MARGIN = 4 * (2 + 1);
const PAGE = 4096;
const PRIORITY_NAMES = ["emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", "trace"];

const utf8 = new TextEncoder();
const utf8Lenient = new TextDecoder("utf-8");

/** libqb's name of a priority (`qb_log_priority2str`). */
export function priorityName(p: number): string {
  return PRIORITY_NAMES[p] ?? "trace";
}

// ------------------------------------------------------------------ writing

/** Cuts `text` so that `%s`, its NUL, the text and its NUL fit in `QB_LOG_MAX_LEN` bytes. */
function serializeMessage(text: string): Uint8Array {
  let body = utf8.encode(text);
  const max = QB_LOG_MAX_LEN - 4;
  if (body.byteLength > max) {
    let cut = max;
    while (cut > 0 && (body[cut]! & 0xc0) === 0x80) cut--; // do not split a UTF-8 sequence
    body = body.subarray(0, cut);
  }
  const out = new Uint8Array(3 + body.byteLength + 1);
  out.set([0x25, 0x73, 0], 0);
  out.set(body, 3);
  return out;
}

function encodeRecord(r: BlackboxRecord): Uint8Array {
  const fn = utf8.encode(r.fn.replaceAll("\0", ""));
  const msg = serializeMessage(r.message.replaceAll("\0", ""));
  const size = 4 + 4 + 1 + 4 + fn.byteLength + 1 + 16 + 4 + msg.byteLength;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  dv.setUint32(o, r.lineno >>> 0, true);
  dv.setUint32((o += 4), r.tags >>> 0, true);
  dv.setUint8((o += 4), r.priority & 0xff);
  dv.setUint32((o += 1), fn.byteLength + 1, true);
  out.set(fn, (o += 4));
  o += fn.byteLength + 1;
  dv.setBigInt64(o, BigInt(Math.trunc(r.sec)), true);
  dv.setBigInt64((o += 8), BigInt(Math.trunc(r.nsec)), true);
  dv.setUint32((o += 8), msg.byteLength, true);
  out.set(msg, (o += 4));
  return out;
}

/**
 * The blackbox file for `records` (oldest first): one chunk per record from word 0, read_pt 0,
 * write_pt after the last, the ring a whole number of pages with room to spare (libqb's
 * reader re-creates a ring of that size and must find the same word count).
 */
export function encodeBlackbox(records: readonly BlackboxRecord[]): Uint8Array {
  const chunks = records.map(encodeRecord);
  const usedWords = chunks.reduce((n, c) => n + 2 + Math.ceil(c.byteLength / 4), 0);
  const ringBytes = Math.ceil((usedWords * 4 + CHUNK_MARGIN + 1) / PAGE) * PAGE;
  const wordSize = ringBytes / 4;
  const out = new Uint8Array(40 + ringBytes);
  const dv = new DataView(out.buffer);
  NEW_HEADER.forEach((v, i) => dv.setUint32(i * 4, v, true));
  let p = 0;
  for (const c of chunks) {
    const at = 40 + p * 4;
    dv.setUint32(at, c.byteLength, true);
    dv.setUint32(at + 4, CHUNK_MAGIC, true);
    out.set(c, at + 8);
    p += 2 + Math.ceil(c.byteLength / 4);
  }
  const writePt = p;
  dv.setUint32(20, wordSize, true);
  dv.setUint32(24, writePt, true);
  dv.setUint32(28, 0, true);
  dv.setUint32(32, RB_FILE_VERSION, true);
  dv.setUint32(36, (wordSize + writePt + 0 + RB_FILE_VERSION) >>> 0, true);
  return out;
}

// ------------------------------------------------------------------ reading

/** What a blackbox file holds. */
export interface BlackboxFile {
  /** True when the "new format" header was there (records carry nanoseconds). */
  timespecs: boolean;
  wordSize: number;
  readPt: number;
  writePt: number;
  records: BlackboxRecord[];
}

/** Reads a blackbox file (ours or libqb's). Throws `BlackboxFormatError` for a broken file. */
export function decodeBlackbox(file: Uint8Array): BlackboxFile {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u32 = (o: number): number => {
    if (o + 4 > file.byteLength) throw new BlackboxFormatError(`file ends at ${file.byteLength} bytes, header needs ${o + 4}`);
    return dv.getUint32(o, true);
  };
  const timespecs = NEW_HEADER.every((v, i) => u32(i * 4) === v);
  const base = timespecs ? 20 : 0;
  const wordSize = u32(base);
  const writePt = u32(base + 4);
  const readPt = u32(base + 8);
  const version = u32(base + 12);
  const hash = u32(base + 16);
  if (((wordSize + writePt + readPt + version) >>> 0) !== hash) throw new BlackboxFormatError("ring header hash does not match");
  if (version !== RB_FILE_VERSION) throw new BlackboxFormatError(`ring file version ${version}, expected ${RB_FILE_VERSION}`);
  const dataStart = base + 20;
  if (wordSize === 0 || dataStart + wordSize * 4 > file.byteLength) throw new BlackboxFormatError(`ring of ${wordSize} words does not fit the file`);
  if (readPt >= wordSize || writePt >= wordSize) throw new BlackboxFormatError("ring pointers outside the ring");
  const ring = file.subarray(dataStart, dataStart + wordSize * 4);
  return { timespecs, wordSize, readPt, writePt, records: readChunks(ring, wordSize, readPt, writePt, timespecs) };
}

function readChunks(ring: Uint8Array, wordSize: number, readPt: number, writePt: number, timespecs: boolean): BlackboxRecord[] {
  const dv = new DataView(ring.buffer, ring.byteOffset, ring.byteLength);
  const word = (i: number): number => dv.getUint32((i % wordSize) * 4, true);
  const out: BlackboxRecord[] = [];
  let p = readPt;
  // A reader never reads more than one ring's worth: that bounds the work on hostile files.
  let walked = 0;
  while (p !== writePt) {
    if (word(p + 1) !== CHUNK_MAGIC) break;
    const size = word(p);
    if (size > wordSize * 4 - 8) throw new BlackboxFormatError(`chunk at word ${p} claims ${size} bytes`);
    walked += 2 + Math.ceil(size / 4);
    if (walked > wordSize) throw new BlackboxFormatError("chunks run past the end of the ring");
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = ring[((p + 2) * 4 + i) % (wordSize * 4)]!;
    out.push(decodeRecord(data, timespecs));
    p = (p + 2 + Math.ceil(size / 4)) % wordSize;
  }
  return out;
}

function decodeRecord(d: Uint8Array, timespecs: boolean): BlackboxRecord {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const need = (o: number, n: number, what: string): void => {
    if (o + n > d.byteLength) throw new BlackboxFormatError(`record too short for its ${what}`);
  };
  need(0, 13, "header");
  const lineno = dv.getUint32(0, true);
  const tags = dv.getUint32(4, true);
  const priority = dv.getUint8(8);
  const fnSize = dv.getUint32(9, true);
  if (fnSize === 0) throw new BlackboxFormatError("record with an empty function name");
  need(13, fnSize, "function name");
  const fn = cString(d.subarray(13, 13 + fnSize));
  let o = 13 + fnSize;
  let sec: number;
  let nsec = 0;
  if (timespecs) {
    need(o, 16, "timestamp");
    sec = Number(dv.getBigInt64(o, true));
    nsec = Number(dv.getBigInt64(o + 8, true));
    o += 16;
  } else {
    need(o, 8, "timestamp");
    sec = Number(dv.getBigInt64(o, true));
    o += 8;
  }
  need(o, 4, "message length");
  const msgLen = dv.getUint32(o, true);
  if (msgLen === 0 || msgLen > QB_LOG_MAX_LEN) throw new BlackboxFormatError(`message length ${msgLen} out of bounds`);
  need(o + 4, msgLen, "message");
  const message = deserialize(d.subarray(o + 4, o + 4 + msgLen)).replace(/[\n\0]+$/, "");
  return { lineno, tags, priority, fn, sec, nsec, message };
}

function cString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return utf8Lenient.decode(nul < 0 ? b : b.subarray(0, nul));
}

/**
 * Formats a serialized printf message (format string + arguments, see the file comment).
 * Arguments are read within `buf` only; running short ends the text there.
 */
export function deserialize(buf: Uint8Array): string {
  const fmtEnd = buf.indexOf(0);
  const fmt = cString(buf);
  const args = new ArgReader(buf, fmtEnd < 0 ? buf.byteLength : fmtEnd + 1);
  let out = "";
  let i = 0;
  while (i < fmt.length) {
    const pct = fmt.indexOf("%", i);
    if (pct < 0) return out + fmt.slice(i);
    out += fmt.slice(i, pct);
    const spec = /^%([-+ #0']*)(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z|t|j|L|q)?([diouxXeEfFgGaAcspn%])/.exec(fmt.slice(pct));
    if (spec === null) return out + fmt.slice(pct);
    const piece = args.format(spec);
    if (piece === undefined) return out;
    out += piece;
    i = pct + spec[0].length;
  }
  return out;
}

class ArgReader {
  private readonly dv: DataView;
  constructor(
    private readonly buf: Uint8Array,
    private pos: number,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private take(n: number): number | undefined {
    if (this.pos + n > this.buf.byteLength) return undefined;
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private int(wide: boolean, signed: boolean): bigint | undefined {
    const at = this.take(wide ? 8 : 4);
    if (at === undefined) return undefined;
    if (wide) return signed ? this.dv.getBigInt64(at, true) : this.dv.getBigUint64(at, true);
    return BigInt(signed ? this.dv.getInt32(at, true) : this.dv.getUint32(at, true));
  }

  private star(x: string | undefined): number | undefined {
    if (x !== "*") return x === undefined ? undefined : Number(x);
    const at = this.take(4);
    return at === undefined ? undefined : this.dv.getInt32(at, true);
  }

  /** One conversion; undefined when the arguments ran out. */
  format(m: RegExpExecArray): string | undefined {
    const flags = m[1] ?? "";
    const width = this.star(m[2]);
    const precision = this.star(m[3]);
    const len = m[4] ?? "";
    const conv = m[5]!;
    const wide = len === "l" || len === "ll" || len === "z" || len === "t" || len === "j" || len === "q";
    let text: string;
    switch (conv) {
      case "%":
        return "%";
      case "d":
      case "i": {
        const v = this.int(wide, true);
        if (v === undefined) return undefined;
        text = v.toString();
        break;
      }
      case "u":
      case "o":
      case "x":
      case "X": {
        const v = this.int(wide, false);
        if (v === undefined) return undefined;
        const radix = conv === "o" ? 8 : conv === "u" ? 10 : 16;
        text = v.toString(radix);
        if (conv === "X") text = text.toUpperCase();
        if (flags.includes("#") && v !== 0n && radix !== 10) text = (conv === "o" ? "0" : conv === "x" ? "0x" : "0X") + text;
        break;
      }
      case "p": {
        const v = this.int(true, false);
        if (v === undefined) return undefined;
        text = v === 0n ? "(nil)" : `0x${v.toString(16)}`;
        break;
      }
      case "c": {
        const at = this.take(1);
        if (at === undefined) return undefined;
        text = String.fromCharCode(this.buf[at]!);
        break;
      }
      case "s": {
        const end = this.buf.indexOf(0, this.pos);
        const stop = end < 0 ? this.buf.byteLength : end;
        text = utf8Lenient.decode(this.buf.subarray(this.pos, stop));
        this.pos = Math.min(this.buf.byteLength, stop + 1);
        if (precision !== undefined && precision >= 0) text = text.slice(0, precision);
        break;
      }
      case "n":
        return "";
      default: {
        const at = this.take(8);
        if (at === undefined) return undefined;
        text = formatDouble(this.dv.getFloat64(at, true), conv, precision);
      }
    }
    return pad(text, width, flags);
  }
}

function formatDouble(x: number, conv: string, precision: number | undefined): string {
  const p = precision ?? 6;
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  if (conv === "f" || conv === "F") return x.toFixed(Math.min(100, p));
  if (conv === "e" || conv === "E") {
    const t = x.toExponential(Math.min(100, p)).replace(/e([+-])(\d)$/, "e$10$2");
    return conv === "E" ? t.toUpperCase() : t;
  }
  return String(Number(x.toPrecision(Math.max(1, Math.min(100, p)))));
}

function pad(text: string, width: number | undefined, flags: string): string {
  if (width === undefined || text.length >= Math.abs(width)) return text;
  const w = Math.abs(width);
  if (flags.includes("-") || width < 0) return text.padEnd(w);
  if (flags.includes("0") && /^-?[0-9a-fA-Fx]+$/.test(text)) {
    const neg = text.startsWith("-");
    return (neg ? "-" : "") + text.slice(neg ? 1 : 0).padStart(w - (neg ? 1 : 0), "0");
  }
  return text.padStart(w);
}

/**
 * One line as `qb-blackbox` prints it: `%-7s %s %s(%u):%u: %s` with priority, local time
 * `Mon DD HH:MM:SS.mmm`, function, line, tags and message. `utcOffsetMinutes` turns the
 * record's time into local time (the reader's zone).
 */
export function formatBlackboxLine(r: BlackboxRecord, utcOffsetMinutes: number): string {
  const ms = r.sec * 1000 + Math.floor(r.nsec / 1e6);
  const t = new Date(ms + utcOffsetMinutes * 60_000);
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][t.getUTCMonth()]!;
  const two = (n: number): string => String(n).padStart(2, "0");
  const time = `${mon} ${two(t.getUTCDate())} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())}.${String(Math.floor(r.nsec / 1e6)).padStart(3, "0")}`;
  return `${priorityName(r.priority).padEnd(7)} ${time} ${r.fn}(${r.lineno >>> 0}):${r.tags >>> 0}: ${r.message}`;
}
