/**
 * The service engines' exec messages (totempg group "a", behind corosync's 16-byte exec
 * header), as decoders and as stateful consumers:
 * - decoders: `cpg-exec` (decodeCpgExec), `votequorum-exec` (the four votequorum decoders),
 *   `cfg-exec` (the cfg decoders), `cmap-exec` (decodeCmapMcast), each in both byte orders,
 *   the function id read from the header as the service host reads it; only the typed error
 *   (or `undefined` for the decoders that document it); a round trip through the encoder
 *   gives the same message back; decoded counts and names within their limits;
 * - engines: `cpg-engine`, `votequorum-engine`, `cmap-engine`, `cfg-engine`: a fresh engine
 *   per episode in a three-node ring (us = 1), hostile exec messages from members and
 *   strangers, sync rounds, its own messages looped back; no exception, bounded state.
 *
 * Engine inputs start with the 5-byte prefix of layers.ts (flags, sender node id). Flags:
 * 0x01 big-endian sender; 0x04 map the node id onto a member; 0xc8 a configuration change
 * (starts a sync round: `init` and `process`); 0x02 activate the running round; 0x10 the send
 * queue refuses for this input; 0x20 time passes (timers fire) and up to four of the
 * engine's own messages come back in agreed order.
 */
import { CfgEngine } from "../../../src/core/cfg/cfg.js";
import {
  CFG_EXEC,
  CS_MAX_NAME_LENGTH,
  decodeCryptoReconfig,
  decodeKillNode,
  decodeSourceMessage,
  encodeCryptoReconfig,
  encodeKillNode,
  encodeShutdown,
  encodeSourceMessage,
} from "../../../src/core/cfg/messages.js";
import { CmapEngine, CONFIG_VERSION_KEY } from "../../../src/core/cmap/engine.js";
import { CmapStore } from "../../../src/core/cmap/store.js";
import { CmapType } from "../../../src/core/cmap/types.js";
import { CpgEngine, type CpgClientSink } from "../../../src/core/cpg/engine.js";
import {
  CPG_LIMITS,
  CpgExecFn,
  decodeCpgExec,
  encodeDownList,
  encodeDownListOld,
  encodeJoinList,
  encodeMcast,
  encodePartialMcast,
  encodeProcJoinLeave,
  type CpgExecMessage,
} from "../../../src/core/cpg/messages.js";
import {
  decodeNodeInfo,
  decodeQdeviceReconfigure,
  decodeQdeviceReg,
  decodeReconfigure,
  encodeNodeInfo,
  encodeQdeviceReconfigure,
  encodeQdeviceReg,
  encodeReconfigure,
  QDEVICE_NAME_MAX,
  VQ_EXEC,
} from "../../../src/core/quorum/messages.js";
import { VQ_NODES_MAX } from "../../../src/core/quorum/votequorum.js";
import type { ExecSource, ServiceApi, ServiceEngine } from "../../../src/core/services/types.js";
import { CMAP_MCAST_ITEMS_MAX, decodeCmapMcast, encodeCmapMcast, type CmapMcast } from "../../../src/wire/cmap/exec.js";
import type { RingId } from "../../../src/wire/totem/types.js";
import type { Prng } from "../../../sim/prng.js";
import { catchDecode, decoderTarget } from "../decoder.js";
import { randomBytes } from "../mutate.js";
import type { Field, FuzzContext, FuzzTarget } from "../target.js";
import { startedVoteQuorum } from "./engines.js";
import { execFields } from "./layouts.js";
import { FLAG, has, memo, PREFIX_BYTES, splitPrefix, withPrefix } from "./layers.js";

const utf8 = new TextEncoder();

/** The function id of an exec message as the service host reads it (low 16 bits of the header id). */
function execFn(b: Uint8Array, le: boolean): number {
  if (b.byteLength < 4) return 0;
  return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, le) & 0xffff;
}

/** A JSON rendering for deep comparisons (bigints and byte views included). */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? Array.from(x).join(",") : x));
}

/** A big-endian rendition of a little-endian message: every u32 at `offsets` swapped (header id and size included). */
function swapped(b: Uint8Array, offsets: readonly number[], u64: readonly number[] = []): Uint8Array {
  const out = b.slice();
  for (const at of [0, 8, ...offsets]) if (at + 4 <= out.byteLength) out.set(out.subarray(at, at + 4).slice().reverse(), at);
  for (const at of u64) if (at + 8 <= out.byteLength) out.set(out.subarray(at, at + 8).slice().reverse(), at);
  return out;
}

const v = (name: string, at: number, width: 1 | 2 | 4 | 8, le: boolean): Field => ({ name, at, width, le, kind: "value" });
const nameLen = (name: string, at: number, le: boolean, limit: number): Field => ({ name, at, width: 4, le, kind: "count", limit, unit: 1 });

// ------------------------------------------------------------------------------ CPG

const GROUPS = ["g1", "g2", "", "x".repeat(128), "\u00ff\u0000\\"];
const SOURCE = { nodeId: 2, conn: 0x1234n };

function cpgCorpusLe(): Uint8Array[] {
  const slots = new Uint32Array(CPG_LIMITS.processorCountMax);
  slots.set([3, 7, 0xffffffff]);
  const out: Uint8Array[] = [];
  for (const g of GROUPS) {
    out.push(encodeProcJoinLeave(CpgExecFn.PROCJOIN, g, 100, 1), encodeProcJoinLeave(CpgExecFn.PROCLEAVE, g, 200, 2));
    out.push(encodeMcast(g, 100, SOURCE, Uint8Array.of(1, 2, 3)), encodeMcast(g, 5, SOURCE, new Uint8Array(0)));
    out.push(encodePartialMcast(g, 100, SOURCE, 10, 1, Uint8Array.of(1, 2, 3, 4)), encodePartialMcast(g, 100, SOURCE, 10, 3, Uint8Array.of(9)));
  }
  out.push(encodeJoinList([]), encodeJoinList([{ pid: 100, group: "g1" }, { pid: 7, group: "g2" }, { pid: 1, group: "" }]));
  out.push(encodeDownList(3, 0, slots), encodeDownList(3, 2, slots), encodeDownList(0, 384, slots), encodeDownListOld([2, 3]));
  return out;
}

/** The corpus in both byte orders (the u32 fields of each layout swapped). */
function cpgCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of cpgCorpusLe()) {
    out.push(m);
    const fn = execFn(m, true);
    if (fn === CpgExecFn.PROCJOIN || fn === CpgExecFn.PROCLEAVE) out.push(swapped(m, [16, 152, 160]));
    else if (fn === CpgExecFn.MCAST) out.push(swapped(m, [16, 152, 160, 168], [176]));
    else if (fn === CpgExecFn.PARTIAL_MCAST) out.push(swapped(m, [16, 152, 160, 168, 176, 184], [192]));
    else if (fn === CpgExecFn.DOWNLIST) out.push(swapped(m, [16, 24, 32, 36]));
  }
  return out;
}

/** Field layout of a CPG exec message (totem-spec §7.2 offsets). */
function cpgFields(b: Uint8Array, at: number): Field[] {
  if (b.byteLength < at + 16) return [];
  // A big-endian header id reads 00 02 00 fn; a little-endian one fn 00 02 00.
  const le = !(b[at] === 0 && b[at + 1] === 2);
  const f: Field[] = [...execFields(b, at, le)];
  const fn = execFn(b.subarray(at), le);
  const o = (x: number): number => at + x;
  switch (fn) {
    case CpgExecFn.PROCJOIN:
    case CpgExecFn.PROCLEAVE:
      f.push(nameLen("procjoin.group_name.length", o(16), le, CPG_LIMITS.nameBytesMax), v("procjoin.pid", o(152), 4, le));
      f.push({ name: "procjoin.reason", at: o(160), width: 4, le, kind: "enum", valid: [0, 1, 2, 3, 4, 5] });
      break;
    case CpgExecFn.JOINLIST: {
      f.push({ name: "joinlist.size", at: o(8), width: 4, le, kind: "count", limit: b.byteLength - at, unit: 1 });
      const n = Math.min(4, Math.floor((b.byteLength - at - 24) / 144));
      for (let i = 0; i < n; i++) f.push(v(`joinlist[${i}].pid`, o(24 + 144 * i), 4, le), nameLen(`joinlist[${i}].group_name.length`, o(32 + 144 * i), le, CPG_LIMITS.nameBytesMax));
      break;
    }
    case CpgExecFn.MCAST:
      f.push(nameLen("mcast.group_name.length", o(16), le, CPG_LIMITS.nameBytesMax), { name: "mcast.msglen", at: o(152), width: 4, le, kind: "length" });
      f.push(v("mcast.pid", o(160), 4, le), v("mcast.source.nodeid", o(168), 4, le), v("mcast.source.conn", o(176), 8, le));
      break;
    case CpgExecFn.PARTIAL_MCAST:
      f.push(nameLen("partial_mcast.group_name.length", o(16), le, CPG_LIMITS.nameBytesMax), v("partial_mcast.msglen", o(152), 4, le));
      f.push({ name: "partial_mcast.fraglen", at: o(160), width: 4, le, kind: "length" }, v("partial_mcast.pid", o(168), 4, le));
      f.push({ name: "partial_mcast.type", at: o(176), width: 4, le, kind: "enum", valid: [1, 2, 3] }, v("partial_mcast.source.nodeid", o(184), 4, le));
      break;
    case CpgExecFn.DOWNLIST:
      f.push(v("downlist.old_members", o(16), 4, le), { name: "downlist.left_nodes", at: o(24), width: 4, le, kind: "count", limit: CPG_LIMITS.processorCountMax });
      f.push(v("downlist.nodeids[0]", o(32), 4, le));
      break;
    case CpgExecFn.DOWNLIST_OLD:
      f.push(v("downlist_old.left_nodes", o(16), 4, le));
      break;
  }
  return f;
}

/** Re-encode a decoded CPG message (little-endian); undefined for DOWNLIST_OLD (only a count is kept). */
function encodeCpg(m: CpgExecMessage): Uint8Array | undefined {
  switch (m.fn) {
    case CpgExecFn.PROCJOIN:
    case CpgExecFn.PROCLEAVE:
      return encodeProcJoinLeave(m.fn, m.group, m.pid, m.reason);
    case CpgExecFn.JOINLIST:
      return encodeJoinList(m.entries);
    case CpgExecFn.MCAST:
      return encodeMcast(m.group, m.pid, m.source, m.data);
    case CpgExecFn.PARTIAL_MCAST:
      return encodePartialMcast(m.group, m.pid, m.source, m.msglen, m.type, m.data);
    case CpgExecFn.DOWNLIST: {
      const slots = new Uint32Array(CPG_LIMITS.processorCountMax);
      slots.set(m.leftNodes);
      return encodeDownList(m.oldMembers, m.leftNodes.length, slots);
    }
    case CpgExecFn.DOWNLIST_OLD:
      return undefined;
  }
}

function checkCpg(input: Uint8Array, le: boolean, ctx: FuzzContext): string {
  const fn = execFn(input, le);
  const r = decodeCpgExec(fn, input, !le);
  if (!r.ok) return r.error.code;
  const m = r.value;
  const names = m.fn === CpgExecFn.JOINLIST ? m.entries.map((e) => e.group) : "group" in m ? [m.group] : [];
  ctx.check(names.every((n) => n.length <= CPG_LIMITS.nameBytesMax), "cpg-limits", () => `a group name of more than ${CPG_LIMITS.nameBytesMax} bytes`);
  if (m.fn === CpgExecFn.JOINLIST) ctx.check(m.entries.length <= CPG_LIMITS.joinlistEntriesMax, "cpg-limits", () => `${m.entries.length} joinlist entries`);
  if (m.fn === CpgExecFn.DOWNLIST) ctx.check(m.leftNodes.length <= CPG_LIMITS.processorCountMax, "cpg-limits", () => `${m.leftNodes.length} left nodes`);
  if (m.fn === CpgExecFn.PARTIAL_MCAST) ctx.check(m.data.byteLength <= m.msglen, "cpg-limits", () => `a ${m.data.byteLength}-byte piece of a ${m.msglen}-byte message`);
  const re = encodeCpg(m);
  if (re !== undefined) {
    const back = decodeCpgExec(m.fn, re, false);
    ctx.check(back.ok && canon(back.value) === canon(m), "cpg-round-trip", () => `fn ${m.fn}: decode(encode(m)) differs from m`);
  }
  return `ok:${m.fn}`;
}

export const cpgExecTarget = decoderTarget({
  name: "cpg-exec",
  about: "decodeCpgExec (both byte orders, fn from the header): only DecodeError, limits, round trip with the CPG encoders",
  corpus: cpgCorpus,
  fields: (b) => cpgFields(b, 0),
  decode: (input, ctx) => {
    const le = checkCpg(input, true, ctx);
    checkCpg(input, false, ctx);
    return le;
  },
  maxBytes: 8192,
  boundedCases: 2000,
});

// ------------------------------------------------------------------------------ votequorum

function vqCorpusLe(): Uint8Array[] {
  return [
    encodeNodeInfo({ nodeId: 2, votes: 1, expectedVotes: 3, flags: 1 }),
    encodeNodeInfo({ nodeId: 3, votes: 1, expectedVotes: 3, flags: 8 | 1 | 4 }),
    encodeNodeInfo({ nodeId: 0, votes: 1, expectedVotes: 0, flags: 0 }),
    encodeNodeInfo({ nodeId: 2, votes: 0xffffffff, expectedVotes: 0xffffffff, flags: 2 }),
    encodeNodeInfo({ nodeId: 1, votes: 1, expectedVotes: 3, flags: 0x10 | 0x20 | 0x40 }),
    encodeReconfigure({ nodeId: 2, value: 5, param: 1 }),
    encodeReconfigure({ nodeId: 3, value: 2, param: 2 }),
    encodeReconfigure({ nodeId: 1, value: 0, param: 3 }),
    encodeQdeviceReg({ operation: 1, name: "Qdevice" }),
    encodeQdeviceReg({ operation: 0, name: "Qdevice" }),
    encodeQdeviceReg({ operation: 1, name: "q".repeat(254) }),
    encodeQdeviceReconfigure({ oldName: "Qdevice", newName: "Other" }),
    encodeQdeviceReconfigure({ oldName: "", newName: "\u00e9".repeat(127) }),
  ];
}

function vqCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of vqCorpusLe()) {
    out.push(m);
    const fn = execFn(m, true);
    if (fn === VQ_EXEC.NODEINFO) out.push(swapped(m, [16, 20, 24, 28]));
    else if (fn === VQ_EXEC.RECONFIGURE) out.push(swapped(m, [16, 20]));
    else if (fn === VQ_EXEC.QDEVICE_REG) out.push(swapped(m, [16]));
  }
  return out;
}

function vqFields(b: Uint8Array, at: number): Field[] {
  if (b.byteLength < at + 16) return [];
  const le = !(b[at] === 0 && b[at + 1] === 5);
  const fn = execFn(b.subarray(at), le);
  const f: Field[] = [...execFields(b, at, le)];
  if (fn === VQ_EXEC.NODEINFO) {
    f.push(v("nodeinfo.nodeid", at + 16, 4, le), v("nodeinfo.votes", at + 20, 4, le), v("nodeinfo.expected_votes", at + 24, 4, le));
    f.push({ name: "nodeinfo.flags", at: at + 28, width: 4, le, kind: "enum", valid: [0, 1, 2, 4, 8, 16, 32, 64, 128, 255] });
  } else if (fn === VQ_EXEC.RECONFIGURE) {
    f.push(v("reconfigure.nodeid", at + 16, 4, le), v("reconfigure.value", at + 20, 4, le), { name: "reconfigure.param", at: at + 24, width: 1, le, kind: "enum", valid: [1, 2, 3] });
  } else if (fn === VQ_EXEC.QDEVICE_REG) {
    f.push({ name: "qdevice_reg.operation", at: at + 16, width: 4, le, kind: "enum", valid: [0, 1] });
  }
  return f;
}

/** UTF-8 length of a decoded name: names must be re-sendable (char[255], NUL-terminated). */
function nameFits(name: string): boolean {
  return utf8.encode(name).byteLength < QDEVICE_NAME_MAX;
}

function checkVq(input: Uint8Array, le: boolean, ctx: FuzzContext): string {
  const fn = execFn(input, le);
  const be = !le;
  let again: string | undefined;
  let got: string | undefined;
  try {
    switch (fn) {
      case VQ_EXEC.NODEINFO: {
        const m = decodeNodeInfo(input, be);
        if (m === undefined) return "short";
        got = canon(m);
        again = canon(decodeNodeInfo(encodeNodeInfo(m), false));
        break;
      }
      case VQ_EXEC.RECONFIGURE: {
        const m = decodeReconfigure(input, be);
        if (m === undefined) return "short";
        got = canon(m);
        again = canon(decodeReconfigure(encodeReconfigure(m), false));
        break;
      }
      case VQ_EXEC.QDEVICE_REG: {
        const m = decodeQdeviceReg(input, be);
        if (m === undefined) return "short";
        ctx.check(nameFits(m.name), "vq-name", () => `decoded qdevice name of ${utf8.encode(m.name).byteLength} UTF-8 bytes cannot be sent again`);
        got = canon(m);
        again = canon(decodeQdeviceReg(encodeQdeviceReg(m), false));
        break;
      }
      case VQ_EXEC.QDEVICE_RECONFIGURE: {
        const m = decodeQdeviceReconfigure(input);
        if (m === undefined) return "short";
        ctx.check(nameFits(m.oldName) && nameFits(m.newName), "vq-name", () => `decoded qdevice names cannot be sent again`);
        got = canon(m);
        again = canon(decodeQdeviceReconfigure(encodeQdeviceReconfigure(m)));
        break;
      }
      default:
        return "unknown_fn";
    }
  } catch (e) {
    if (e instanceof RangeError && got !== undefined) {
      ctx.check(false, "vq-round-trip", () => `fn ${fn}: the encoder refuses what the decoder returned: ${e.message}`);
    }
    throw e;
  }
  ctx.check(again === got, "vq-round-trip", () => `fn ${fn}: decode(encode(m)) differs from m`);
  return `ok:${fn}`;
}

export const votequorumExecTarget = decoderTarget({
  name: "votequorum-exec",
  about: "votequorum exec decoders (NODEINFO, RECONFIGURE, QDEVICE_REG, QDEVICE_RECONFIGURE; both byte orders): never throw, names re-sendable, round trip",
  corpus: vqCorpus,
  fields: (b) => vqFields(b, 0),
  decode: (input, ctx) => {
    const le = checkVq(input, true, ctx);
    checkVq(input, false, ctx);
    return le;
  },
  maxBytes: 1024,
  boundedCases: 2000,
});

// ------------------------------------------------------------------------------ cfg

function cfgCorpusLe(): Uint8Array[] {
  return [
    encodeSourceMessage(CFG_EXEC.RINGREENABLE, { nodeId: 2, conn: 7n }),
    encodeSourceMessage(CFG_EXEC.RELOAD_CONFIG, { nodeId: 3, conn: 0xffffffffffffffffn }),
    encodeKillNode({ nodeId: 1, reason: "fenced" }),
    encodeKillNode({ nodeId: 2, reason: "r".repeat(300) }),
    encodeKillNode({ nodeId: 1, reason: "\u00e9t\u00e9" }),
    encodeShutdown(),
    encodeCryptoReconfig(0),
    encodeCryptoReconfig(1),
  ];
}

function cfgCorpus(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of cfgCorpusLe()) {
    out.push(m);
    const fn = execFn(m, true);
    if (fn === CFG_EXEC.KILLNODE) {
      const be = swapped(m, [16]);
      be.set(be.subarray(24, 26).slice().reverse(), 24);
      out.push(be);
    } else if (fn === CFG_EXEC.RINGREENABLE || fn === CFG_EXEC.RELOAD_CONFIG) out.push(swapped(m, [16], [24]));
    else out.push(swapped(m, [16]));
  }
  return out;
}

function cfgFields(b: Uint8Array): Field[] {
  if (b.byteLength < 16) return [];
  const le = !(b[0] === 0 && b[1] === 1);
  const fn = execFn(b, le);
  const f: Field[] = [...execFields(b, 0, le)];
  if (fn === CFG_EXEC.KILLNODE) f.push(v("killnode.nodeid", 16, 4, le), { name: "killnode.reason.length", at: 24, width: 2, le, kind: "count", limit: CS_MAX_NAME_LENGTH, unit: 1 });
  if (fn === CFG_EXEC.RINGREENABLE || fn === CFG_EXEC.RELOAD_CONFIG) f.push(v("source.nodeid", 16, 4, le), v("source.conn", 24, 8, le));
  if (fn === CFG_EXEC.CRYPTO_RECONFIG) f.push(v("crypto_reconfig.phase", 16, 4, le));
  return f;
}

function checkCfg(input: Uint8Array, le: boolean, ctx: FuzzContext): string {
  const fn = execFn(input, le);
  const be = !le;
  switch (fn) {
    case CFG_EXEC.RINGREENABLE:
    case CFG_EXEC.RELOAD_CONFIG: {
      const m = decodeSourceMessage(input, be);
      if (m === undefined) return "short";
      ctx.check(canon(decodeSourceMessage(encodeSourceMessage(fn, m), false)) === canon(m), "cfg-round-trip", () => `source message differs after a round trip`);
      return `ok:${fn}`;
    }
    case CFG_EXEC.KILLNODE: {
      const m = decodeKillNode(input, be);
      if (m === undefined) return "short";
      const bytes = utf8.encode(m.reason).byteLength;
      // A reason of invalid UTF-8 may grow when re-encoded (U+FFFD): then the encoder cuts it.
      if (bytes < CS_MAX_NAME_LENGTH) ctx.check(canon(decodeKillNode(encodeKillNode(m), false)) === canon(m), "cfg-round-trip", () => `killnode differs after a round trip`);
      else encodeKillNode(m);
      return `ok:${fn}`;
    }
    case CFG_EXEC.CRYPTO_RECONFIG: {
      const p = decodeCryptoReconfig(input, be);
      if (p === undefined) return "short";
      ctx.check(decodeCryptoReconfig(encodeCryptoReconfig(p), false) === p, "cfg-round-trip", () => `crypto_reconfig phase differs after a round trip`);
      return `ok:${fn}`;
    }
    default:
      return fn === CFG_EXEC.SHUTDOWN ? "ok:2" : "unknown_fn";
  }
}

export const cfgExecTarget = decoderTarget({
  name: "cfg-exec",
  about: "cfg exec decoders (RINGREENABLE, KILLNODE, RELOAD_CONFIG, CRYPTO_RECONFIG; both byte orders): never throw, round trip",
  corpus: cfgCorpus,
  fields: cfgFields,
  decode: (input, ctx) => {
    const le = checkCfg(input, true, ctx);
    checkCfg(input, false, ctx);
    return le;
  },
  maxBytes: 1024,
  boundedCases: 1500,
});

// ------------------------------------------------------------------------------ cmap

function u64(x: bigint, le = true): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, x, le);
  return b;
}

function cmapCorpus(): Uint8Array[] {
  const msgs: CmapMcast[] = [
    { reason: 0, items: [{ key: CONFIG_VERSION_KEY, type: CmapType.UINT64, value: u64(3n) }] },
    { reason: 1, items: [{ key: CONFIG_VERSION_KEY, type: 0, value: new Uint8Array(0) }] },
    { reason: 0, items: [] },
    { reason: 0, items: [{ key: "a", type: CmapType.STRING, value: utf8.encode("hello") }, { key: CONFIG_VERSION_KEY, type: CmapType.UINT32, value: Uint8Array.of(1, 0, 0, 0) }] },
    { reason: 7, items: Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, type: i, value: new Uint8Array(i * 5) })) },
  ];
  const out = msgs.map(encodeCmapMcast);
  // Big-endian: the header size, each key length and value_len swapped.
  const be = encodeCmapMcast({ reason: 0, items: [{ key: CONFIG_VERSION_KEY, type: CmapType.UINT64, value: u64(9n, false) }] });
  const dv = new DataView(be.buffer);
  dv.setInt32(8, be.byteLength, false);
  dv.setUint16(48, CONFIG_VERSION_KEY.length, false);
  dv.setBigUint64(48 + 272, 8n, false);
  out.push(be);
  return out;
}

function cmapFields(b: Uint8Array): Field[] {
  if (b.byteLength < 48) return [];
  const f: Field[] = [...execFields(b, 0, true)];
  f.push({ name: "cmap_mcast.reason", at: 16, width: 1, le: true, kind: "enum", valid: [0, 1] });
  f.push({ name: "cmap_mcast.no_items", at: 24, width: 1, le: true, kind: "count", limit: CMAP_MCAST_ITEMS_MAX, unit: 280 });
  let at = 48;
  for (let i = 0; i < Math.min(b[24]!, 4) && at + 280 <= b.byteLength; i++) {
    f.push({ name: `item[${i}].key_name.length`, at, width: 2, le: true, kind: "count", limit: 256, unit: 1 });
    f.push({ name: `item[${i}].value_type`, at: at + 264, width: 1, le: true, kind: "enum", valid: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] });
    const len = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(at + 272, true));
    f.push({ name: `item[${i}].value_len`, at: at + 272, width: 8, le: true, kind: "length" });
    at += (280 + Math.min(len, b.byteLength) + 7) & ~7;
  }
  return f;
}

function checkCmap(input: Uint8Array, le: boolean, ctx: FuzzContext): string {
  const r = catchDecode(() => decodeCmapMcast(input, le));
  if (!r.ok) return r.code;
  const m = r.value;
  ctx.check(m.items.length <= CMAP_MCAST_ITEMS_MAX, "cmap-limits", () => `${m.items.length} items`);
  // A key of invalid UTF-8 may not fit mar_name_t once re-encoded: the receiver never sends keys back.
  if (m.items.every((it) => utf8.encode(it.key).byteLength < 256)) {
    const back = decodeCmapMcast(encodeCmapMcast(m), true);
    ctx.check(canon(back) === canon(m), "cmap-round-trip", () => `decode(encode(m)) differs from m`);
  }
  return "ok";
}

export const cmapExecTarget = decoderTarget({
  name: "cmap-exec",
  about: "decodeCmapMcast (both byte orders): only DecodeError, at most 32 items, round trip with encodeCmapMcast",
  corpus: cmapCorpus,
  fields: cmapFields,
  decode: (input, ctx) => {
    const le = checkCmap(input, true, ctx);
    checkCmap(input, false, ctx);
    return le;
  },
  maxBytes: 12_000,
  boundedCases: 2000,
});

// ------------------------------------------------------------------------------ engines

const MEMBERS = [1, 2, 3];
const LOCAL = 1;

/** A ServiceApi for one engine: a bounded send queue, virtual time, timers. */
class EngineEnv {
  now = 0;
  refuse = false;
  readonly sent: Uint8Array[] = [];
  readonly timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  readonly api: ServiceApi = {
    nodeId: LOCAL,
    now: () => this.now,
    mcast: (m) => {
      if (this.refuse || this.sent.length >= 64) return false;
      this.sent.push(m.slice());
      return true;
    },
    sendOk: () => !this.refuse && this.sent.length < 64,
    schedule: (ms, fn) => {
      const t = { at: this.now + ms, fn, live: true };
      this.timers.push(t);
      return { cancel: () => void (t.live = false) };
    },
    log: () => {},
  };

  advance(ms: number): void {
    this.now += ms;
    for (let i = 0; i < this.timers.length; ) {
      const t = this.timers[i]!;
      if (!t.live) this.timers.splice(i, 1);
      else if (t.at <= this.now) {
        this.timers.splice(i, 1);
        t.fn();
      } else i++;
    }
  }
}

interface EngineSpec<E extends ServiceEngine> {
  name: string;
  about: string;
  corpus: () => Uint8Array[];
  fields: (b: Uint8Array, at: number) => Field[];
  generate?: (rng: Prng) => Uint8Array;
  make(env: EngineEnv, ctx: FuzzContext, rng: Prng): E;
  /** Bounds and invariants after every input. */
  check(engine: E, env: EngineEnv, ctx: FuzzContext): void;
  episode?: number;
  boundedCases?: number;
  sweepLimit?: number;
}

/**
 * A stateful target around one engine: the prefix says who sends and what happens around the
 * input (see the file comment); the message goes to `exec` as the service host would hand it.
 */
function engineTarget<E extends ServiceEngine>(spec: EngineSpec<E>): FuzzTarget {
  const t: FuzzTarget = {
    name: spec.name,
    about: spec.about,
    episode: spec.episode ?? 300,
    maxBytes: 8192,
    corpus: memo(spec.corpus),
    fields: (b) => [
      { name: "prefix.flags", at: 0, width: 1, le: true, kind: "enum", valid: [0, 1, 2, 4, 5, 0xc8, 0x10, 0x20, 0x24, 0xff] },
      { name: "prefix.nodeid", at: 1, width: 4, le: true, kind: "value" },
      ...spec.fields(b, PREFIX_BYTES),
    ],
    open(rng, ctx) {
      const env = new EngineEnv();
      const engine = spec.make(env, ctx, rng);
      let ringSeq = 4n;
      let syncing = false;
      const round = (): RingId => ({ rep: 1, seq: ringSeq });
      const startRound = (): void => {
        if (syncing) engine.sync?.abort();
        ringSeq += 4n;
        const ring = round();
        engine.confchg?.({ type: "transitional", members: MEMBERS, left: [], joined: [], ringId: ring });
        engine.confchg?.({ type: "regular", members: MEMBERS, left: [], joined: [], ringId: ring });
        if (engine.sync === undefined) return;
        engine.sync.init(MEMBERS, MEMBERS, ring);
        for (let i = 0; i < 3 && !engine.sync.process(); i++);
        syncing = true;
      };
      startRound();
      engine.sync?.activate();
      syncing = false;
      const deliver = (msg: Uint8Array, from: ExecSource): void => {
        if (msg.byteLength < 16) return;
        engine.exec(execFn(msg, !from.bigEndian), msg, from);
      };
      return {
        feed(input) {
          const { flags, nodeId, body } = splitPrefix(input);
          env.refuse = has(flags, FLAG.x10);
          if (has(flags, FLAG.confchg)) startRound();
          if (has(flags, FLAG.x20)) {
            env.advance(3000);
            for (const m of env.sent.splice(0, 4)) deliver(m, { nodeId: LOCAL, bigEndian: false });
          }
          const from: ExecSource = { nodeId: has(flags, FLAG.member) ? MEMBERS[nodeId % MEMBERS.length]! : nodeId, bigEndian: has(flags, FLAG.bigEndian) };
          let label = "too_short";
          if (body.byteLength >= 16) {
            label = `fn${execFn(body, !from.bigEndian)}`;
            deliver(body, from);
          }
          if (has(flags, FLAG.aim) && syncing && engine.sync !== undefined) {
            engine.sync.process();
            engine.sync.activate();
            syncing = false;
            label += ":activated";
          }
          engine.pump?.();
          ctx.check(env.timers.length <= 1000, "engine-timers", () => `${env.timers.length} timers pending`);
          spec.check(engine, env, ctx);
          return label;
        },
      };
    },
  };
  return Object.assign(
    t,
    spec.generate !== undefined ? { generate: spec.generate } : {},
    { boundedCases: spec.boundedCases ?? 1500 },
    spec.sweepLimit !== undefined ? { sweepLimit: spec.sweepLimit } : {},
  );
}

/** A prefix for engine inputs: mostly a member, sometimes a stranger, sometimes a round or time. */
function enginePrefix(rng: Prng, body: Uint8Array): Uint8Array {
  const flags = rng.pick([FLAG.member, FLAG.member, FLAG.member, FLAG.member | FLAG.bigEndian, 0, FLAG.confchg, FLAG.aim | FLAG.member, FLAG.x20 | FLAG.member, FLAG.x10 | FLAG.member]);
  return withPrefix(flags, rng.chance(0.8) ? rng.int(0, 5) : rng.u32(), body);
}

function prefixed(corpus: () => Uint8Array[]): () => Uint8Array[] {
  return () =>
    corpus().flatMap((m, i) => {
      // Every corpus message carries its own size at 8, in its sender's byte order.
      const be = m.byteLength >= 12 && new DataView(m.buffer, m.byteOffset).getInt32(8, true) !== m.byteLength;
      const f = (be ? FLAG.bigEndian : 0) | FLAG.member;
      return [withPrefix(f, i, m), withPrefix(f | FLAG.aim, i + 1, m), withPrefix(f | FLAG.x20, i + 2, m)];
    });
}

// CPG engine ------------------------------------------------------------------

interface CpgView {
  outbox: unknown[];
  joinlistStore: unknown[];
}

/** Local clients that check what the engine hands them. */
function cpgSink(ctx: FuzzContext, group: string): CpgClientSink {
  return {
    deliver: (m) => ctx.check(m.group === group, "cpg-client", () => `a message of group ${JSON.stringify(m.group)} delivered to a client of ${group}`),
    partialDeliver: (m) => ctx.check(m.group === group && m.data.byteLength <= m.msglen, "cpg-client", () => `a bad partial delivery to a client of ${group}`),
    confchg: (c) => {
      ctx.check(c.group === group, "cpg-client", () => `a confchg of another group`);
      ctx.check(c.members.length <= 100_000, "cpg-client", () => `${c.members.length} members`);
    },
    totemConfchg: (t) => ctx.check(t.members.length <= MEMBERS.length, "cpg-client", () => `totem confchg with ${t.members.length} members`),
  };
}

function generateCpgExec(rng: Prng): Uint8Array {
  const g = rng.pick(["g1", "g2", "g1", "h", String.fromCharCode(...randomBytes(rng, rng.int(0, 130)))]).slice(0, 128);
  const pid = rng.pick([100, 200, 1, rng.u32()]);
  const slots = new Uint32Array(CPG_LIMITS.processorCountMax).map(() => rng.pick([1, 2, 3, 4, rng.u32()]));
  const r = rng.int(0, 6);
  const body =
    r === 0
      ? encodeProcJoinLeave(CpgExecFn.PROCJOIN, g, pid, rng.int(0, 6))
      : r === 1
        ? encodeProcJoinLeave(CpgExecFn.PROCLEAVE, g, pid, rng.int(0, 6))
        : r === 2
          ? encodeJoinList(Array.from({ length: rng.int(0, 20) }, () => ({ pid: rng.pick([100, 200, rng.u32()]), group: rng.pick(["g1", "g2", g]) })))
          : r === 3
            ? encodeMcast(g, pid, { nodeId: rng.int(0, 4), conn: BigInt(rng.u32()) }, randomBytes(rng, rng.int(0, 64)))
            : r === 4
              ? encodePartialMcast(g, pid, SOURCE, rng.int(0, 100), rng.int(0, 4), randomBytes(rng, rng.int(0, 40)))
              : r === 5
                ? encodeDownList(rng.int(0, 5), rng.pick([0, 1, 2, 384, rng.int(0, 384)]), slots)
                : encodeDownListOld([rng.int(1, 4)]);
  return enginePrefix(rng, body);
}

export const cpgEngineTarget = engineTarget({
  name: "cpg-engine",
  about: "CpgEngine.exec with hostile CPG messages from members and strangers, sync rounds and local clients; no exception, consistent process list",
  corpus: prefixed(cpgCorpus),
  fields: cpgFields,
  generate: generateCpgExec,
  episode: 300,
  make(env, ctx) {
    const e = new CpgEngine({ api: env.api });
    e.attach(1, cpgSink(ctx, "g1"));
    e.attach(2, cpgSink(ctx, "g2"));
    e.join(1, "g1", 100);
    e.join(2, "g2", 200, 1);
    for (const m of env.sent.splice(0)) e.exec(execFn(m, true), m, { nodeId: LOCAL, bigEndian: false });
    return e;
  },
  check(e, _env, ctx) {
    const all = e.processes.all();
    const seen = new Set<string>();
    for (let i = 0; i < all.length; i++) {
      const p = all[i]!;
      const key = `${p.nodeId}:${p.pid}:${p.group}`;
      ctx.check(!seen.has(key), "cpg-process-list", () => `process ${key} listed twice`);
      seen.add(key);
      ctx.check(p.group.length <= CPG_LIMITS.nameBytesMax, "cpg-process-list", () => `a group name of ${p.group.length} bytes`);
      const q = all[i - 1];
      ctx.check(q === undefined || q.nodeId < p.nodeId || (q.nodeId === p.nodeId && q.pid <= p.pid), "cpg-process-list", () => `process list out of order at ${i}`);
    }
    for (const conn of [1, 2]) {
      const c = e.clientState(conn);
      ctx.check(c !== undefined && (c.state === "UNJOINED") === (c.group === undefined), "cpg-client-state", () => `client ${conn}: ${JSON.stringify(c)}`);
    }
    const view = e as unknown as CpgView;
    ctx.check(view.outbox.length <= 16, "cpg-outbox", () => `${view.outbox.length} messages waiting`);
  },
});

// votequorum engine -------------------------------------------------------------

function generateVqExec(rng: Prng): Uint8Array {
  const id = (): number => rng.pick([0, 1, 2, 3, 4, 384, 385, rng.u32()]);
  const n = (): number => rng.pick([0, 1, 2, 3, 255, 256, 0xffffffff, rng.u32()]);
  const name = (): string => rng.pick(["Qdevice", "", "q".repeat(254), String.fromCharCode(...randomBytes(rng, rng.int(0, 254)))]);
  const r = rng.int(0, 4);
  let body: Uint8Array;
  if (r <= 1) body = encodeNodeInfo({ nodeId: id(), votes: n(), expectedVotes: n(), flags: rng.chance(0.5) ? rng.int(0, 255) : rng.u32() });
  else if (r === 2) body = encodeReconfigure({ nodeId: id(), value: n(), param: rng.int(0, 4) });
  else if (r === 3) {
    body = encodeQdeviceReg({ operation: rng.int(0, 2), name: "" });
    // Raw name bytes (not necessarily UTF-8, not necessarily NUL-terminated).
    body.set(randomBytes(rng, rng.pick([7, 200, 254, 255])).map((x) => (rng.chance(0.3) ? 0x80 | x : x || 1)), 20);
    if (rng.chance(0.3)) body.set(utf8.encode(name()).subarray(0, 254), 20);
  } else {
    body = encodeQdeviceReconfigure({ oldName: rng.chance(0.5) ? "Qdevice" : "", newName: "" });
    body.set(randomBytes(rng, rng.pick([5, 254, 255])).map((x) => x | 0x80), 16 + 255);
  }
  return enginePrefix(rng, body);
}

interface VqView {
  nodes: Array<{ nodeId: number }>;
}

export const votequorumEngineTarget = engineTarget({
  name: "votequorum-engine",
  about: "VoteQuorum.exec with hostile votequorum messages (options varied per episode), sync rounds, its own messages looped back; bounded node table, never throws",
  corpus: prefixed(vqCorpus),
  fields: vqFields,
  generate: generateVqExec,
  episode: 300,
  make: (env, _ctx, rng) => startedVoteQuorum(env.api, rng.int(0, 31)),
  check(vq, _env, ctx) {
    const nodes = (vq as unknown as VqView).nodes;
    ctx.check(nodes.length <= VQ_NODES_MAX + 1, "vq-node-table", () => `${nodes.length} nodes in the table (VQ_NODES_MAX ${VQ_NODES_MAX})`);
    for (let i = 1; i < nodes.length; i++) ctx.check(nodes[i - 1]!.nodeId < nodes[i]!.nodeId, "vq-node-table", () => `node table out of order at ${i}`);
    ctx.check(Number.isInteger(vq.quorum) && vq.quorum >= 0, "vq-quorum", () => `quorum ${vq.quorum}`);
    ctx.check(nameFits(vq.qdeviceName), "vq-name", () => `qdevice name of ${utf8.encode(vq.qdeviceName).byteLength} UTF-8 bytes cannot be sent`);
  },
});

// cmap engine -------------------------------------------------------------------

function generateCmapExec(rng: Prng): Uint8Array {
  const n = rng.pick([0, 1, 1, 2, 32]);
  const items = Array.from({ length: n }, () => {
    const key = rng.chance(0.7) ? CONFIG_VERSION_KEY : String.fromCharCode(...randomBytes(rng, rng.int(0, 40)).map((x) => 0x20 + (x % 90)));
    const type = rng.pick([0, CmapType.UINT64, CmapType.UINT64, CmapType.UINT32, CmapType.STRING, rng.int(0, 255)]);
    const value = type === CmapType.UINT64 && rng.chance(0.8) ? u64(BigInt(rng.pick([0, 1, 2, 5, rng.u32()]))) : randomBytes(rng, rng.int(0, 16));
    return { key, type, value };
  });
  return enginePrefix(rng, encodeCmapMcast({ reason: rng.pick([0, 1, 2]), items }));
}

export const cmapEngineTarget = engineTarget({
  name: "cmap-engine",
  about: "CmapEngine.exec with hostile CMAP messages, sync rounds, config_version changes; never throws, stored versions are u64",
  corpus: prefixed(cmapCorpus),
  fields: (b, at) => cmapFields(b.subarray(at)).map((f) => ({ ...f, at: f.at + at })),
  generate: generateCmapExec,
  episode: 300,
  make(env, ctx, rng) {
    const store = new CmapStore();
    if (rng.chance(0.7)) store.set(CONFIG_VERSION_KEY, { type: CmapType.UINT64, value: BigInt(rng.int(0, 5)) }, { force: true });
    let shutdowns = 0;
    return new CmapEngine({
      api: env.api,
      store,
      requestShutdown: () => {
        shutdowns++;
        ctx.check(shutdowns <= 1, "cmap-shutdown", () => `asked to shut down ${shutdowns} times (only the first sync checks)`);
      },
    });
  },
  check(e, _env, ctx) {
    const store = (e as unknown as { opts: { store: CmapStore } }).opts.store;
    for (const id of MEMBERS) {
      const v = store.get(`runtime.members.${id}.config_version`);
      ctx.check(v === undefined || v.type === CmapType.UINT64, "cmap-member-version", () => `runtime.members.${id}.config_version of type ${v?.type}`);
    }
  },
});

// cfg engine ---------------------------------------------------------------------

function generateCfgExec(rng: Prng): Uint8Array {
  const r = rng.int(0, 4);
  const body =
    r === 0
      ? encodeSourceMessage(rng.pick([CFG_EXEC.RINGREENABLE, CFG_EXEC.RELOAD_CONFIG]), { nodeId: rng.int(0, 4), conn: BigInt(rng.u32()) })
      : r === 1
        ? encodeKillNode({ nodeId: rng.pick([1, 2, 0, rng.u32()]), reason: String.fromCharCode(...randomBytes(rng, rng.int(0, 300))) })
        : r === 2
          ? encodeShutdown()
          : encodeCryptoReconfig(rng.pick([0, 1, 2, rng.u32()]));
  return enginePrefix(rng, body);
}

export const cfgEngineTarget = engineTarget({
  name: "cfg-engine",
  about: "CfgEngine.exec with hostile cfg messages: never throws; kill only when named, shutdown only on our own SHUTDOWN",
  corpus: prefixed(cfgCorpus),
  fields: (b, at) => cfgFields(b.subarray(at)).map((f) => ({ ...f, at: f.at + at })),
  generate: generateCfgExec,
  episode: 200,
  make(env, ctx) {
    let lastFrom = -1;
    const engine = new CfgEngine(env.api, {
      reloadConfig: () => {},
      ringReenable: () => {},
      killed: (_by, reason) => ctx.check(typeof reason === "string" && utf8.encode(reason).byteLength <= 3 * CS_MAX_NAME_LENGTH, "cfg-kill", () => `kill reason of ${reason.length} chars`),
      shutdown: () => ctx.check(lastFrom === LOCAL, "cfg-shutdown", () => `shut down by node ${lastFrom}'s SHUTDOWN`),
    });
    // Remember the sender of the message being handled (the shutdown oracle reads it).
    const exec = engine.exec.bind(engine);
    engine.exec = (fn, message, from) => {
      lastFrom = from.nodeId;
      exec(fn, message, from);
    };
    return engine;
  },
  check() {},
});
