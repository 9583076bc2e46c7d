#!/usr/bin/env node
/**
 * `corosync-cfgtool`: link and node status, reload, log reopening, kill node, shutdown, node
 * addresses — as corosync 3.1.7's tool (`tools/corosync-cfgtool.c`) prints and does them.
 *
 *   corosync-cfgtool [[-i <interface ip|link id>] [-b] -s] [-n] [-R] [-L] [-r] [-k nodeid]
 *                    [-a nodeid] [-h] [-H [--force]]
 *
 * Differences from 3.1.7, on purpose: `-i` filters `-s` to one link (3.1.7 parses it and
 * ignores it); `-r` re-enables faulty redundant rings of our udp/udpu transports on every node
 * (corosync 2's behaviour; 3.1.7 has no `-r`).
 *
 * Exit status as corosync's: 0, or 1 on failure; `-R`/`-L` exit with the cs_error_t number;
 * `-H` exits 0 even when the shutdown was refused (it prints why).
 */
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CfgClient, SHUTDOWN_FLAG, type NodeStatus } from "../client/cfg.js";
import { csStrerror, type CorosyncError } from "../client/errors.js";
import { CmapReader } from "./lib/cmap-reader.js";
import { getopt, strtonum } from "./lib/getopt.js";

export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;

export interface CfgtoolIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Socket-name prefix (default `$COROSYNC_IPC_PREFIX`). */
  prefix?: string;
  /** Wait between TRY_AGAIN retries of -H (default 1 s, as `cs_repeat`). */
  sleep?(ms: number): Promise<void>;
}

const USAGE = [
  "corosync-cfgtool [[-i <interface ip>] [-b] -s] [-R] [-L] [-k nodeid] [-a nodeid] [-h] [-H]",
  "",
  "A tool for displaying and configuring active parameters within corosync.",
  "options:",
  "\t-i\tFinds only information about the specified interface IP address or link id when used with -s..",
  "\t-s\tDisplays the status of the current links on this node.",
  "\t-n\tDisplays the status of the connected nodes and their links.",
  "\t-b\tDisplays the brief status of the current links on this node when used with -s.",
  "\t-r\tRe-enable faulty redundant rings on all nodes (udp/udpu redundant rings).",
  "\t-R\tTell all instances of corosync in this cluster to reload corosync.conf.",
  "\t-L\tTell corosync to reopen all logging files.",
  "\t-k\tKill a node identified by node id.",
  "\t-a\tDisplay the IP address(es) of a node",
  "\t-h\tPrint basic usage.",
  "\t-H\tShutdown corosync cleanly on this node.",
  "\t\t--force will shut down corosync regardless of daemon vetos",
  "",
].join("\n");

type Action = "noop" | "linkstatus" | "nodestatus" | "reload" | "reopen" | "shutdown" | "showaddr" | "kill" | "reenable";

const csText = (e: unknown): string => csStrerror((e as CorosyncError)?.csError ?? 2);
const csNumber = (e: unknown): number => (e as CorosyncError)?.csError ?? 2;

async function openCfg(io: CfgtoolIo, numeric: boolean): Promise<CfgClient | undefined> {
  try {
    return await CfgClient.connect(io.prefix === undefined ? {} : { prefix: io.prefix });
  } catch (e) {
    io.stderr(`Could not initialize corosync configuration API error ${numeric ? csNumber(e) : csText(e)}\n`);
    return undefined;
  }
}

interface Topology {
  transport: string;
  isKnet: boolean;
  localNodeId: number;
  nodeIds: number[];
  linkTransport: string[];
}

/** What `nodestatusget_do` reads from cmap and cfg before printing. */
async function topology(io: CfgtoolIo, cfg: CfgClient): Promise<Topology | number> {
  let cmap: CmapReader;
  try {
    cmap = await CmapReader.connect(io.prefix);
  } catch (e) {
    io.stderr(`Could not initialize corosync cmap API error ${csNumber(e)}\n`);
    return EXIT_FAILURE;
  }
  try {
    const transport = (await cmap.getString("totem.transport").catch(() => undefined)) ?? "knet";
    const isKnet = transport !== "udp" && transport !== "udpu";
    let localNodeId: number;
    try {
      localNodeId = await cfg.localNodeId();
    } catch (e) {
      io.stderr(`Could not get the local node id, the error is: ${csNumber(e)}\n`);
      return EXIT_FAILURE;
    }
    const nodeIds: number[] = [];
    for (const key of await cmap.keys("nodelist.node.")) {
      if (!/^nodelist\.node\.\d+\.nodeid$/.test(key)) continue;
      const id = await cmap.getUint32(key).catch(() => undefined);
      if (id !== undefined) nodeIds.push(id);
    }
    if (nodeIds.length === 0) {
      io.stderr("No nodes found in nodelist\n");
      return EXIT_FAILURE;
    }
    nodeIds.sort((a, b) => a - b);
    const linkTransport: string[] = Array.from({ length: 8 }, () => (isKnet ? "udp" : ""));
    for (const key of await cmap.keys("totem.interface.").catch(() => [] as string[])) {
      const m = /^totem\.interface\.(\d+)\.knet_transport$/.exec(key);
      if (m === null || Number(m[1]) > 7) continue;
      const t = await cmap.getString(key).catch(() => undefined);
      if (t !== undefined) linkTransport[Number(m[1])] = t;
    }
    return { transport, isKnet, localNodeId, nodeIds, linkTransport };
  } finally {
    await cmap.close();
  }
}

/** `-n`: every reachable node but us, with its links. */
async function printNodes(io: CfgtoolIo, cfg: CfgClient, t: Topology): Promise<void> {
  for (const id of t.nodeIds) {
    let st: NodeStatus;
    try {
      st = await cfg.nodeStatus(id);
    } catch {
      continue;
    }
    if (!st.reachable || st.nodeId === t.localNodeId) continue;
    let out = `nodeid: ${st.nodeId} reachable${st.remote ? " remote" : ""}${st.external ? " external" : ""}\n`;
    st.links.forEach((l, j) => {
      if (!l.enabled) return;
      out += `   LINK: ${j} ${t.linkTransport[j]} (${l.src}${t.isKnet ? "->" : ""}${l.dst}) enabled${l.connected ? " connected" : ""}${l.dynconnected ? " dynconnected" : ""} mtu: ${l.mtu}\n`;
    });
    io.stdout(`${out}\n`);
  }
}

/**
 * `-s`: per link, the address corosync shows (the source address of the last node that is
 * not us, as 3.1.7 does) and every node's state on it; `-b` as one character per node.
 */
async function printLinks(io: CfgtoolIo, cfg: CfgClient, t: Topology, brief: boolean, only: string | undefined): Promise<void> {
  const infos: NodeStatus[] = [];
  for (const id of t.nodeIds) {
    try {
      infos.push(await cfg.nodeStatus(id));
    } catch (e) {
      io.stderr(`Could not get the node status for nodeid ${id}, the error is: ${csNumber(e)}\n`);
      infos.push({ nodeId: 0, reachable: false, remote: false, external: false, onwireMin: 0, onwireMax: 0, onwireVer: 0, links: [] });
    }
  }
  const localIndex = Math.max(0, t.nodeIds.indexOf(t.localNodeId));
  const otherIndex = t.nodeIds.reduce((acc, id, i) => (id !== t.localNodeId ? i : acc), 0);
  let out = "";
  for (let i = 0; i < 8; i++) {
    const link = infos[otherIndex]?.links[i];
    if (link === undefined || !link.enabled) continue;
    if (only !== undefined && only !== String(i) && only !== link.src && only !== infos[localIndex]?.links[i]?.src) continue;
    out += `LINK ID ${i} ${t.linkTransport[i]}\n\taddr\t= ${link.src}\n`;
    if (brief) {
      out += "\tstatus\t= ";
      infos.forEach((n, j) => {
        const l = n.links[i];
        out += j === localIndex ? "n" : String((l?.enabled ? 1 : 0) | ((l?.connected ? 1 : 0) << 1));
      });
      out += "\n";
    } else {
      out += "\tstatus:\n";
      infos.forEach((n, j) => {
        const state = j === localIndex ? "localhost" : n.links[i]?.connected ? "connected" : "disconnected";
        out += `\t\tnodeid: ${String(n.nodeId).padStart(10, " ")}:\t${state}\n`;
      });
    }
  }
  io.stdout(out);
}

async function nodeStatusCommand(io: CfgtoolIo, action: Action, brief: boolean, only: string | undefined): Promise<number> {
  const cfg = await openCfg(io, true);
  if (cfg === undefined) return EXIT_FAILURE;
  try {
    const t = await topology(io, cfg);
    if (typeof t === "number") return t;
    io.stdout(`Local node ID ${t.localNodeId}, transport ${t.transport}\n`);
    if (action === "nodestatus") await printNodes(io, cfg, t);
    else await printLinks(io, cfg, t, brief, only);
    return EXIT_SUCCESS;
  } finally {
    await cfg.close();
  }
}

async function simpleCall(io: CfgtoolIo, call: (c: CfgClient) => Promise<void>, onError: (e: unknown) => number, before = "", after = ""): Promise<number> {
  if (before !== "") io.stdout(before);
  const cfg = await openCfg(io, false);
  if (cfg === undefined) return EXIT_FAILURE;
  try {
    await call(cfg);
    if (after !== "") io.stdout(after);
    return EXIT_SUCCESS;
  } catch (e) {
    return onError(e);
  } finally {
    await cfg.close();
  }
}

/** `-H`: ask the daemon to stop, retrying TRY_AGAIN up to 30 times a second apart. */
async function shutdownCommand(io: CfgtoolIo, force: boolean): Promise<number> {
  const cfg = await openCfg(io, true);
  if (cfg === undefined) return EXIT_FAILURE;
  io.stdout("Shutting down corosync\n");
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await cfg.tryShutdown(force ? SHUTDOWN_FLAG.REGARDLESS : SHUTDOWN_FLAG.REQUEST);
        return EXIT_SUCCESS;
      } catch (e) {
        if (csNumber(e) === 6 && attempt < 29) {
          await sleep(1000);
          continue;
        }
        io.stderr(`Could not shutdown (error = ${csNumber(e)})\n`);
        return EXIT_SUCCESS;
      }
    }
  } finally {
    await cfg.close();
  }
}

async function showAddresses(io: CfgtoolIo, nodeId: number): Promise<number> {
  const cfg = await openCfg(io, true);
  if (cfg === undefined) return EXIT_FAILURE;
  try {
    const addrs = await cfg.nodeAddresses(nodeId);
    io.stdout(`${addrs.map((a) => a.address).join(" ")}\n`);
    return EXIT_SUCCESS;
  } catch {
    io.stderr(`Could not get node address for nodeid ${nodeId}\n`);
    return EXIT_FAILURE;
  } finally {
    await cfg.close();
  }
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Run the tool; resolves with its exit status. */
export async function runCfgtool(argv: readonly string[], io: CfgtoolIo): Promise<number> {
  const parsed = getopt(argv, "i:snbrRLk:a:hHV", {
    if: { arg: true, short: "i" },
    status: { arg: false, short: "s" },
    nodes: { arg: false, short: "n" },
    brief: { arg: false, short: "b" },
    reload: { arg: false, short: "R" },
    reopen: { arg: false, short: "L" },
    kill: { arg: true, short: "k" },
    address: { arg: true, short: "a" },
    shutdown: { arg: false, short: "H" },
    force: { arg: false },
  });
  if (parsed.error !== undefined) {
    io.stderr(`corosync-cfgtool: ${parsed.error}\n`);
    return EXIT_FAILURE;
  }
  let action: Action = "noop";
  let brief = false;
  let force = false;
  let only: string | undefined;
  let nodeId = 0;
  for (const { opt, arg } of parsed.options) {
    switch (opt) {
      case "force":
        force = true;
        break;
      case "i":
        only = arg;
        break;
      case "s":
        action = "linkstatus";
        break;
      case "n":
        action = "nodestatus";
        break;
      case "b":
        brief = true;
        break;
      case "r":
        action = "reenable";
        break;
      case "R":
        action = "reload";
        break;
      case "L":
        action = "reopen";
        break;
      case "H":
        action = "shutdown";
        break;
      case "V":
        io.stdout(`corosync-cfgtool version: ${version()}\n`);
        return EXIT_SUCCESS;
      case "k":
      case "a": {
        const v = strtonum(arg!, 1, 0xffffffff);
        if (v === undefined) {
          io.stderr("The nodeid was not valid, try a positive number\n");
          return EXIT_FAILURE;
        }
        nodeId = v;
        action = opt === "k" ? "kill" : "showaddr";
        break;
      }
    }
  }
  switch (action) {
    case "linkstatus":
    case "nodestatus":
      return nodeStatusCommand(io, action, brief, only);
    case "reload":
      return simpleCall(
        io,
        (c) => c.reloadConfig(),
        (e) => (io.stderr(`Could not reload configuration. Error ${csText(e)}\n`), csNumber(e)),
        "Reloading corosync.conf...\n",
        "Done\n",
      );
    case "reopen":
      return simpleCall(io, (c) => c.reopenLogFiles(), (e) => (io.stderr(`Could not reopen corosync logging files. Error ${csText(e)}\n`), csNumber(e)));
    case "reenable":
      return simpleCall(io, (c) => c.ringReenable(), (e) => (io.stderr(`Could not re-enable ring error ${csText(e)}\n`), EXIT_FAILURE), "Re-enabling all failed rings.\n");
    case "kill":
      return simpleCall(
        io,
        (c) => c.killNode(nodeId, "Killed by corosync-cfgtool"),
        (e) => (io.stderr(`Could not kill node (error = ${csText(e)})\n`), EXIT_FAILURE),
        `Killing node ${nodeId}\n`,
      );
    case "shutdown":
      return shutdownCommand(io, force);
    case "showaddr":
      return showAddresses(io, nodeId);
    case "noop":
      io.stdout(USAGE);
      return EXIT_SUCCESS;
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
  runCfgtool(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`corosync-cfgtool: ${String(e)}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}
