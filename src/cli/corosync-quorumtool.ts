#!/usr/bin/env node
/**
 * `corosync-quorumtool`: quorum status, node list, votes and expected votes, as corosync
 * 3.1.7's tool (`tools/corosync-quorumtool.c`) prints and does them.
 *
 *   corosync-quorumtool [-s] [-l] [-m] [-a] [-p] [-i] [-H] [-o a|n|i] [-e N] [-v N [-n ID]] [-f] [-h] [-V]
 *
 * -s status (default), -l node list, -m monitor (one status per quorum change until
 * interrupted), -e set expected votes, -v set votes of node -n (default: this node),
 * -f unregister the quorum device, -a all addresses, -i addresses instead of names,
 * -H node ids in hex, -o order (a: as corosync sends them, n: name, i: node id), -p machine
 * parsable (Qdevice column always).
 *
 * It reaches the daemon through cmap, quorum, votequorum and cfg IPC, honouring
 * COROSYNC_IPC_PREFIX like our client library. Exit status as corosync's: -s 0 quorate,
 * 2 not quorate; 1 on any error.
 */
import { readFileSync, realpathSync } from "node:fs";
import { lookupService } from "node:dns/promises";
import { fileURLToPath } from "node:url";
import { CfgClient } from "../client/cfg.js";
import { csStrerror, isCorosyncError, type CorosyncError } from "../client/errors.js";
import { QuorumClient, TRACK } from "../client/quorum.js";
import { VotequorumClient, VQ_INFO, type VotequorumInfo } from "../client/votequorum.js";
import { CmapReader } from "./lib/cmap-reader.js";
import { ctime, getopt, strtonum } from "./lib/getopt.js";

export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
export const EXIT_NOT_QUORATE = 2;

export interface QuorumtoolIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Clock for the Date line. */
  now(): Date;
  /** Socket-name prefix (default `$COROSYNC_IPC_PREFIX`). */
  prefix?: string;
  /** Ends `-m` (the real tool runs until killed). */
  signal?: AbortSignal;
  /** Reverse lookup for node names without a nodelist name (default: getnameinfo). */
  lookupName?(address: string): Promise<string>;
}

type Command = "status" | "nodes" | "setvotes" | "setexpected" | "monitor" | "unregister";
type SortType = "addr" | "nodeid" | "name";

interface Settings {
  command: Command;
  hexIds: boolean;
  ipAddresses: boolean;
  allAddresses: boolean;
  parsable: boolean;
  sort: SortType;
  votes: number;
  nodeId: number | undefined;
}

function usage(name: string): string {
  return [
    "usage: ",
    `${name} <options>`,
    "",
    "  options:",
    "",
    "  -s             show quorum status",
    "  -m             constantly monitor quorum status",
    "  -l             list nodes",
    "  -a             show all names or addresses for each node",
    "  -p             when used with -s or -l, generates machine parsable output",
    "  -v <votes>     change the number of votes for a node (*)",
    "  -n <nodeid>    optional nodeid of node for -v",
    "  -e <expected>  change expected votes for the cluster (*)",
    "  -H             show nodeids in hexadecimal rather than decimal",
    "  -i             show node IP addresses instead of the resolved name",
    "  -o <a|n|i>     order by [a] IP address (default), [n] name, [i] nodeid",
    "  -f             forcefully unregister a quorum device *DANGEROUS* (*)",
    "  -h             show this help text",
    "  -V             show version and exit",
    "",
    "  (*) Starred items only work if votequorum is the quorum provider for corosync",
    "",
    "",
  ].join("\n");
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Parse argv the way the C tool's getopt loop does; a number is an immediate exit status. */
function parseSettings(argv: readonly string[], io: QuorumtoolIo): Settings | number {
  const s: Settings = { command: "status", hexIds: false, ipAddresses: false, allAddresses: false, parsable: false, sort: "addr", votes: 0, nodeId: undefined };
  const parsed = getopt(argv, "VHaslpmfe:v:hin:o:");
  const name = "corosync-quorumtool";
  if (parsed.error !== undefined) {
    io.stderr(`${name}: ${parsed.error}\n`);
    io.stdout(usage(name));
    return EXIT_FAILURE;
  }
  for (const { opt, arg } of parsed.options) {
    switch (opt) {
      case "f":
        s.command = "unregister";
        break;
      case "s":
        s.command = "status";
        break;
      case "a":
        s.allAddresses = true;
        break;
      case "m":
        s.command = "monitor";
        break;
      case "i":
        s.ipAddresses = true;
        break;
      case "H":
        s.hexIds = true;
        break;
      case "l":
        s.command = "nodes";
        break;
      case "p":
        s.parsable = true;
        break;
      case "e": {
        const v = strtonum(arg!, 1, 0x7fffffff);
        if (v === undefined) return fail(io, "New expected votes value was not valid, try a positive number\n");
        s.votes = v;
        s.command = "setexpected";
        break;
      }
      case "n": {
        const v = strtonum(arg!, 1, 0xffffffff);
        if (v === undefined) return fail(io, "The nodeid was not valid, try a positive number\n");
        s.nodeId = v;
        break;
      }
      case "v": {
        const v = strtonum(arg!, 0, 0x7fffffff);
        if (v === undefined) return fail(io, "New votes value was not valid, try a positive number or zero\n");
        s.votes = v;
        s.command = "setvotes";
        break;
      }
      case "o":
        if (arg === "a") s.sort = "addr";
        else if (arg === "i") s.sort = "nodeid";
        else if (arg === "n") s.sort = "name";
        else return fail(io, "Invalid ordering option. valid orders are a(address), i(node ID) or n(name)\n");
        break;
      case "V":
        io.stdout(`corosync-quorumtool version: ${version()}\n`);
        return EXIT_SUCCESS;
      case "h":
        io.stdout(usage(name));
        return EXIT_SUCCESS;
    }
  }
  return s;
}

function fail(io: QuorumtoolIo, text: string): number {
  io.stderr(text);
  return EXIT_FAILURE;
}

const padded = (text: string): string => `${text.padStart(10, " ")} `;

/** One member as the tool lists it. */
interface ViewEntry {
  nodeId: number;
  name: string;
  info: VotequorumInfo | undefined;
}

/** The tool's connections (`init_all`). */
class Handles {
  cmap!: CmapReader;
  quorum!: QuorumClient;
  cfg!: CfgClient;
  votequorum: VotequorumClient | undefined;
  ourNodeId = 0;
  private nodelistNames: Map<number, string> | undefined;

  constructor(private readonly io: QuorumtoolIo) {}

  async init(): Promise<boolean> {
    const prefix = this.io.prefix;
    const opts = prefix === undefined ? {} : { prefix };
    try {
      this.cmap = await CmapReader.connect(prefix);
    } catch {
      this.io.stderr("Cannot initialize CMAP service\n");
      return false;
    }
    try {
      this.quorum = await QuorumClient.connect(opts);
    } catch {
      this.io.stderr("Cannot initialize QUORUM service\n");
      return false;
    }
    try {
      this.cfg = await CfgClient.connect(opts);
    } catch {
      this.io.stderr("Cannot initialise CFG service\n");
      return false;
    }
    if ((await this.usingVotequorum()) <= 0) return true;
    try {
      this.votequorum = await VotequorumClient.connect(opts);
    } catch {
      this.io.stderr("Cannot initialise VOTEQUORUM service\n");
      return false;
    }
    const id = await this.cmap.getUint32("runtime.votequorum.this_node_id").catch(() => undefined);
    if (id === undefined) {
      this.io.stderr("Unable to retrieve this_node_id\n");
      return false;
    }
    this.ourNodeId = id;
    return true;
  }

  /** `get_quorum_type`: undefined when quorum is not configured or cmap has no provider. */
  async quorumProvider(): Promise<string | undefined> {
    if (this.quorum.quorumType === 0) return undefined;
    return this.cmap.getString("quorum.provider").catch(() => undefined);
  }

  /** `using_votequorum`: 1 yes, 0 another provider, -1 unknown. */
  async usingVotequorum(): Promise<number> {
    const p = await this.quorumProvider();
    if (p === undefined) return -1;
    return p === "corosync_votequorum" ? 1 : 0;
  }

  /** `node_name_by_nodelist`: `nodelist.node.<n>.name` of the entry whose nodeid matches. */
  async nodelistName(nodeId: number): Promise<string> {
    if (this.nodelistNames === undefined) {
      this.nodelistNames = new Map();
      const keys = await this.cmap.keys("nodelist.node.").catch(() => [] as string[]);
      for (const key of keys) {
        const m = /^nodelist\.node\.(\d+)\.nodeid$/.exec(key);
        if (m === null) continue;
        const id = await this.cmap.getUint32(key).catch(() => undefined);
        const name = id === undefined ? undefined : await this.cmap.getString(`nodelist.node.${m[1]}.name`).catch(() => undefined);
        if (id !== undefined && name !== undefined && !this.nodelistNames.has(id)) this.nodelistNames.set(id, name);
      }
    }
    return this.nodelistNames.get(nodeId) ?? "";
  }

  async close(): Promise<void> {
    for (const c of [this.cmap, this.quorum, this.cfg, this.votequorum]) await c?.close().catch(() => undefined);
  }
}

/** `node_name`: the nodelist name (or resolved address), plus further addresses with -a. */
async function nodeName(h: Handles, io: QuorumtoolIo, nodeId: number, s: Settings): Promise<string> {
  const name = s.ipAddresses ? "" : await h.nodelistName(nodeId);
  let addrs;
  try {
    addrs = await h.cfg.nodeAddresses(nodeId);
  } catch (e) {
    io.stderr(`Unable to get node address for nodeid ${nodeId}: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
    return "";
  }
  const parts: string[] = name !== "" ? [name] : [];
  const count = s.allAddresses ? addrs.length : 1;
  for (let i = name !== "" ? 1 : 0; i < Math.min(count, addrs.length); i++) {
    const a = addrs[i]!.address;
    parts.push(s.ipAddresses ? a : await (io.lookupName ?? defaultLookup)(a));
  }
  return parts.join(", ");
}

async function defaultLookup(address: string): Promise<string> {
  try {
    return (await lookupService(address, 0)).hostname;
  } catch {
    return address;
  }
}

/** `display_nodes_data`: the membership table. */
async function displayNodes(h: Handles, io: QuorumtoolIo, viewList: readonly number[], s: Settings): Promise<void> {
  const entries: ViewEntry[] = [];
  let showQdevice = false;
  for (const nodeId of viewList) {
    let info: VotequorumInfo | undefined;
    if (h.votequorum !== undefined) {
      try {
        info = await h.votequorum.getInfo(nodeId);
        if (info.flags & VQ_INFO.QDEVICE_REGISTERED) showQdevice = true;
      } catch {
        io.stdout(`Unable to get node ${nodeId} info\n`);
      }
    }
    entries.push({ nodeId, name: await nodeName(h, io, nodeId, s), info });
  }
  let out = "\nMembership information\n----------------------\n" + padded("Nodeid");
  if (h.votequorum !== undefined) {
    out += padded("Votes");
    if (showQdevice || s.parsable) out += padded("Qdevice");
  }
  out += "Name\n";
  if (s.sort === "nodeid") entries.sort((a, b) => a.nodeId - b.nodeId);
  if (s.sort === "name") entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let ourFlags = 0;
  for (const e of entries) {
    out += s.hexIds ? `0x${e.nodeId.toString(16).padStart(8, "0")} ` : padded(String(e.nodeId));
    if (h.votequorum !== undefined) {
      out += padded(String(e.info?.votes ?? 0));
      if (showQdevice || s.parsable) {
        const f = e.info?.flags ?? 0;
        out += padded(f & VQ_INFO.QDEVICE_REGISTERED ? `${f & VQ_INFO.QDEVICE_ALIVE ? "A" : "NA"},${f & VQ_INFO.QDEVICE_CAST_VOTE ? "V" : "NV"},${f & VQ_INFO.QDEVICE_MASTER_WINS ? "MW" : "NMW"}` : "NR");
      }
    }
    out += e.name;
    if (e.nodeId === h.ourNodeId) {
      out += " (local)";
      ourFlags = e.info?.flags ?? 0;
    }
    out += "\n";
  }
  if (showQdevice) {
    const first = entries[0]?.info;
    out += s.hexIds ? "0x00000000 " : padded("0");
    const casting = (ourFlags & VQ_INFO.QDEVICE_CAST_VOTE) !== 0;
    out += padded(String(casting ? (first?.qdeviceVotes ?? 0) : 0));
    out += `           ${first?.qdeviceName ?? ""}`;
    out += casting ? "\n" : ` (votes ${first?.qdeviceVotes ?? 0})\n`;
  }
  io.stdout(out);
}

/** `display_quorum_data`: the status report. Returns false when getinfo failed. */
async function displayQuorum(h: Handles, io: QuorumtoolIo, quorate: boolean, view: { members: number[]; seq: bigint; rep: number }, s: Settings): Promise<boolean> {
  const provider = (await h.quorumProvider()) ?? "Not configured";
  let out = "Quorum information\n------------------\n";
  out += `Date:             ${ctime(io.now())}\n`;
  out += `Quorum provider:  ${provider}\n`;
  out += `Nodes:            ${view.members.length}\n`;
  out += s.hexIds ? `Node ID:          0x${h.ourNodeId.toString(16).padStart(8, "0")}\n` : `Node ID:          ${h.ourNodeId}\n`;
  out += h.votequorum !== undefined ? `Ring ID:          ${view.rep.toString(16)}.${view.seq.toString(16)}\n` : `Ring ID:          ${view.seq.toString(16)}\n`;
  out += `Quorate:          ${quorate ? "Yes" : "No"}\n`;
  io.stdout(out);
  if (h.votequorum === undefined) return true;
  let info: VotequorumInfo;
  try {
    info = await h.votequorum.getInfo(h.ourNodeId);
  } catch (e) {
    io.stderr(`Unable to get node info: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
    await displayNodes(h, io, view.members, s);
    return false;
  }
  const flagNames: Array<[number, string]> = [
    [VQ_INFO.TWONODE, "2Node"],
    [VQ_INFO.QUORATE, "Quorate"],
    [VQ_INFO.WAIT_FOR_ALL, "WaitForAll"],
    [VQ_INFO.LAST_MAN_STANDING, "LastManStanding"],
    [VQ_INFO.AUTO_TIE_BREAKER, "AutoTieBreaker"],
    [VQ_INFO.ALLOW_DOWNSCALE, "AllowDownscale"],
    [VQ_INFO.QDEVICE_REGISTERED, "Qdevice"],
  ];
  out = "\nVotequorum information\n----------------------\n";
  out += `Expected votes:   ${info.expectedVotes}\n`;
  out += `Highest expected: ${info.highestExpected}\n`;
  out += `Total votes:      ${info.totalVotes}\n`;
  out += `Quorum:           ${info.quorum} ${info.flags & VQ_INFO.QUORATE ? " " : "Activity blocked"}\n`;
  out += `Flags:            ${flagNames.filter(([f]) => info.flags & f).map(([, n]) => `${n} `).join("")}\n`;
  io.stdout(out);
  await displayNodes(h, io, view.members, s);
  return true;
}

/** The current quorum view: one CURRENT notification (and the votequorum ring id). */
async function currentView(h: Handles): Promise<{ quorate: boolean; members: number[]; seq: bigint; rep: number }> {
  const q = await h.quorum.current();
  await h.quorum.trackStop().catch(() => undefined);
  let rep = 0;
  if (h.votequorum !== undefined) {
    const vq = h.votequorum;
    const nodelist = new Promise<number>((resolve) => {
      const off = vq.on("nodelist", (e) => {
        off();
        resolve(e.ringId.nodeId);
      });
    });
    await vq.trackStart(TRACK.CURRENT);
    rep = await nodelist;
  }
  return { quorate: q.quorate, members: q.members, seq: q.ringId.seq, rep };
}

async function showStatus(h: Handles, io: QuorumtoolIo, s: Settings): Promise<number> {
  let quorate: boolean;
  try {
    quorate = await h.quorum.getQuorate();
  } catch (e) {
    io.stderr(`Unable to get cluster quorate status: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
    return EXIT_FAILURE;
  }
  let view;
  try {
    view = await currentView(h);
  } catch (e) {
    io.stderr(`Unable to start quorum status tracking: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
    return EXIT_FAILURE;
  }
  // corosync's tool tests `using_votequorum()` for truth, and -1 ("unknown", e.g. no provider
  // configured) is true in C: it then tracks on a handle it never opened. Same answer here.
  if (h.votequorum === undefined && (await h.usingVotequorum()) !== 0) {
    io.stderr("Unable to start votequorum status tracking: CS_ERR_BAD_HANDLE\n");
    return EXIT_FAILURE;
  }
  if (!(await displayQuorum(h, io, quorate, view, s))) return EXIT_FAILURE;
  return quorate ? EXIT_SUCCESS : EXIT_NOT_QUORATE;
}

async function showNodes(h: Handles, io: QuorumtoolIo, s: Settings): Promise<number> {
  try {
    const q = await h.quorum.current();
    await displayNodes(h, io, q.members, s);
    return EXIT_SUCCESS;
  } catch (e) {
    io.stderr(`Unable to start quorum status tracking: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
    return EXIT_FAILURE;
  }
}

/**
 * `monitor_status`: a status report after every quorum notification (and, with votequorum,
 * the node list notification that belongs to it), until interrupted.
 */
async function monitor(h: Handles, io: QuorumtoolIo, s: Settings): Promise<number> {
  if (h.quorum.quorumType === 0) {
    io.stdout("\nQuorum is not configured - cannot monitor\n");
    return showStatus(h, io, s);
  }
  const qEvents = h.quorum.events();
  const vqEvents = h.votequorum?.events();
  const stop = () => void h.close();
  io.signal?.addEventListener("abort", stop, { once: true });
  try {
    await h.quorum.trackStart(TRACK.CHANGES);
    await h.votequorum?.trackStart(TRACK.CHANGES);
    let rep = 0;
    for await (const e of qEvents) {
      if (e.type !== "quorum") continue;
      // Like the C tool: then read votequorum events up to its next node list (not with
      // for-await, whose break would end the stream).
      for (let v = await vqEvents?.next(); v !== undefined && v.done !== true; v = await vqEvents!.next()) {
        if (v.value.type === "nodelist") {
          rep = v.value.event.ringId.nodeId;
          break;
        }
      }
      if (h.quorum.closed) break;
      const ok = await displayQuorum(h, io, e.event.quorate, { members: e.event.members, seq: e.event.ringId.seq, rep }, s);
      io.stdout("\n");
      if (!ok) {
        io.stderr("Unable to display quorum data: CS_ERR_LIBRARY\n");
        return EXIT_FAILURE;
      }
    }
    if (io.signal?.aborted === true) return EXIT_SUCCESS;
    io.stderr("Unable to dispatch quorum status: CS_ERR_LIBRARY\n");
    return EXIT_FAILURE;
  } catch (e) {
    if (io.signal?.aborted === true) return EXIT_SUCCESS;
    io.stderr(`Unable to start quorum status tracking: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
    return EXIT_FAILURE;
  } finally {
    io.signal?.removeEventListener("abort", stop);
  }
}

async function setVotes(h: Handles, io: QuorumtoolIo, s: Settings): Promise<number> {
  if ((await h.usingVotequorum()) <= 0) return fail(io, "You cannot change node votes, corosync is not using votequorum\n");
  const nodeId = s.nodeId ?? h.ourNodeId;
  try {
    await h.votequorum!.setVotes(nodeId, s.votes);
    return EXIT_SUCCESS;
  } catch (e) {
    return fail(io, `Unable to set votes ${s.votes} for nodeid: ${nodeId}: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
  }
}

async function setExpected(h: Handles, io: QuorumtoolIo, s: Settings): Promise<number> {
  if ((await h.usingVotequorum()) <= 0) return fail(io, "You cannot change expected votes, corosync is not using votequorum\n");
  try {
    await h.votequorum!.setExpected(s.votes);
    return EXIT_SUCCESS;
  } catch (e) {
    return fail(io, `Unable to set expected votes: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
  }
}

async function unregisterQdevice(h: Handles, io: QuorumtoolIo): Promise<number> {
  if ((await h.usingVotequorum()) <= 0) return fail(io, "You cannot unregister quorum device, corosync is not using votequorum\n");
  let info: VotequorumInfo;
  try {
    info = await h.votequorum!.getInfo(h.ourNodeId);
  } catch (e) {
    return fail(io, `Unable to get quorum device info: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
  }
  if (!(info.flags & VQ_INFO.QDEVICE_REGISTERED)) return EXIT_SUCCESS;
  try {
    await h.votequorum!.qdeviceUnregister(info.qdeviceName);
    return EXIT_SUCCESS;
  } catch (e) {
    return fail(io, `Unable to unregister quorum device: ${csStrerror((e as CorosyncError).csError ?? 2)}\n`);
  }
}

/** Run the tool; resolves with its exit status. Never throws for daemon-side failures. */
export async function runQuorumtool(argv: readonly string[], io: QuorumtoolIo): Promise<number> {
  const s = parseSettings(argv, io);
  if (typeof s === "number") return s;
  const h = new Handles(io);
  try {
    if (!(await h.init())) return EXIT_FAILURE;
    switch (s.command) {
      case "nodes":
        return await showNodes(h, io, s);
      case "status":
        return await showStatus(h, io, s);
      case "setvotes":
        return await setVotes(h, io, s);
      case "setexpected":
        return await setExpected(h, io, s);
      case "monitor":
        return await monitor(h, io, s);
      case "unregister":
        return await unregisterQdevice(h, io);
    }
  } catch (e) {
    io.stderr(`corosync-quorumtool: ${isCorosyncError(e) ? e.message : String(e)}\n`);
    return EXIT_FAILURE;
  } finally {
    await h.close();
  }
}

function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const abort = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => abort.abort());
  runQuorumtool(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    now: () => new Date(),
    signal: abort.signal,
  }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`corosync-quorumtool: ${String(e)}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}
