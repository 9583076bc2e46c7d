#!/usr/bin/env node
/**
 * `corosync-cmapctl`: read, write and watch the cmap of a running corosync (ours, or a real
 * corosync 3 through the same IPC), with corosync 3.1.7's options, output and exit statuses:
 *
 *   corosync-cmapctl [-b] [PREFIX...]        every key (under each PREFIX), `name (type) = value`
 *   corosync-cmapctl [-b] [-q] -g KEY...     one key (-q: the value alone)
 *   corosync-cmapctl -s KEY TYPE VALUE       set; TYPE i8..u64, flt, dbl, str, bin (VALUE = file or -)
 *   corosync-cmapctl -d KEY... / -D PREFIX...   delete keys / every key under a prefix
 *   corosync-cmapctl [-b] -t KEY... / -T PREFIX...   print changes until `q` or end of input:
 *                                            `create> ...`, `modify> ...`, `delete> ...`
 *   corosync-cmapctl -p FILE                 apply `[^[^]]KEY [TYPE VALUE]` lines (^ delete, ^^ delete prefix)
 *   corosync-cmapctl -m stats ...            work on the stats map; -C WHAT clears stats
 * Exit status 0, or 1 with a message on stderr. Differences from corosync's tool (which
 * takes `sscanf`'s word): a value with trailing garbage (`12abc`), a hexadecimal or
 * out-of-64-bit-range integer or a negative one for an unsigned type is refused instead of
 * being read as a prefix or wrapped; `-C` reports a failed clear. A binary byte ≥ 0x80
 * prints as `\x80` (corosync's tool sign-extends it). The daemon is reached through
 * `$COROSYNC_IPC_PREFIX`'s socket names when that is set.
 */
import { readFileSync } from "node:fs";
import { CmapClient, type CmapChange, type CmapMapName } from "../client/cmap.js";
import { CorosyncError, csStrerror } from "../client/errors.js";
import { CMAP_BIGINT_RANGES, CMAP_INT_RANGES } from "../core/cmap/values.js";
import { CMAP_TYPE_NAMES, CmapType, type CmapValue } from "../core/cmap/types.js";
import { escapeBinary, formatValue } from "../core/cmap/format.js";
import { getopt, isMainModule, OptionError, readLines, runAsProgram, sleep, type ToolIo } from "./cli-support.js";

const PROGRAM = "corosync-cmapctl";
const MAX_TRY_AGAIN = 10;

const USAGE = `
usage:  corosync-cmapctl [-b] [-DdghsqTCt] [-p filename] [-m map] [params...]

    -b         show binary values (escaped)
    -m MAP     map to use: 'icmap' / 'default' (configuration and runtime keys)
               or 'stats' (network and IPC statistics)

  corosync-cmapctl [-b] [PREFIX...]          show every key, or the keys under each PREFIX
  corosync-cmapctl [-b] [-q] -g KEY...       show keys (-q: values only)
  corosync-cmapctl -s KEY TYPE VALUE         set a key; TYPE is i8 u8 i16 u16 i32 u32 i64 u64
                                             flt dbl str or bin (VALUE is then a file, - = stdin)
  corosync-cmapctl -d KEY...                 delete keys
  corosync-cmapctl -D PREFIX...              delete every key under each prefix
  corosync-cmapctl [-b] -t KEY...            print changes of keys until "q" is typed
  corosync-cmapctl [-b] -T PREFIX...         print changes of keys under prefixes
  corosync-cmapctl -p FILE                   apply a file of lines "[^[^]]KEY [TYPE VALUE]":
                                             KEY TYPE VALUE sets, ^KEY deletes, ^^PREFIX deletes by prefix
  corosync-cmapctl -C knet|ipc|totem|schedmiss|all    clear statistics (implies -m stats)

`;

type Action = "print" | "get" | "set" | "delete" | "deletePrefix" | "track" | "load" | "clearStats";

interface Settings {
  action: Action;
  showBinary: boolean;
  quiet: boolean;
  map: CmapMapName;
  trackPrefix: boolean;
  file?: string;
  clear?: string;
}

const TYPE_BY_NAME = new Map<string, CmapType>(Object.entries(CMAP_TYPE_NAMES).map(([n, name]) => [name, Number(n) as CmapType]));

/**
 * The value `-s KEY TYPE VALUE` sets, or the message corosync's tool prints for it.
 * `bin` values are read by the caller (they name a file).
 */
export function parseValue(typeName: string, text: string): CmapValue | string {
  const type = TYPE_BY_NAME.get(typeName);
  if (type === undefined) return `Unknown type ${typeName}`;
  switch (type) {
    case CmapType.STRING:
      return { type, value: text };
    case CmapType.FLOAT:
    case CmapType.DOUBLE: {
      if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return `${text} is not valid ${typeName} type value`;
      return { type, value: Number(text) };
    }
    case CmapType.BINARY:
      return `${typeName} values are read from a file`;
    default:
      return parseInteger(type, typeName, text);
  }
}

function parseInteger(type: CmapType, typeName: string, text: string): CmapValue | string {
  const m = /^\s*([+-]?)(\d+)\s*$/.exec(text);
  if (m === null) return `${text} is not valid ${typeName} type value`;
  const v = BigInt(m[1] === "-" ? `-${m[2]}` : m[2]!);
  if (type === CmapType.INT64 || type === CmapType.UINT64) {
    const [min, max] = CMAP_BIGINT_RANGES[type];
    if (v < min || v > max) return `${text} is not valid ${typeName} integer`;
    return { type, value: v };
  }
  const [min, max] = CMAP_INT_RANGES[type as keyof typeof CMAP_INT_RANGES];
  if (v < BigInt(min) || v > BigInt(max)) return `${text} is not valid ${typeName} integer`;
  return { type, value: Number(v) } as CmapValue;
}

/** One key as corosync's `print_key` prints it (no newline). */
export function keyLine(key: string, value: CmapValue, showBinary: boolean, quiet: boolean): string {
  if (value.type === CmapType.BINARY) {
    // corosync's tool prints "bin)" even in quiet mode.
    const head = quiet ? "bin)" : `${key} (bin)`;
    if (!showBinary) return head;
    return `${head} = ${escapeBinary(value.value)}`;
  }
  const text = formatValue(value);
  return quiet ? text : `${key} (${CMAP_TYPE_NAMES[value.type]}) = ${text}`;
}

function parseSettings(argv: readonly string[]): { settings: Settings; operands: string[] } | { exit: number; message?: string; out?: string } {
  let parsed;
  try {
    parsed = getopt(argv, "m:hqgsdDtTbp:C:", PROGRAM);
  } catch (e) {
    if (e instanceof OptionError) return { exit: 1, message: e.message };
    throw e;
  }
  const s: Settings = { action: "print", showBinary: false, quiet: false, map: "icmap", trackPrefix: true };
  for (const o of parsed.options) {
    switch (o.name) {
      case "h":
        return { exit: 0, out: USAGE };
      case "b":
        s.showBinary = true;
        break;
      case "q":
        s.quiet = true;
        break;
      case "g":
        s.action = "get";
        break;
      case "s":
        s.action = "set";
        break;
      case "d":
        s.action = "delete";
        break;
      case "D":
        s.action = "deletePrefix";
        break;
      case "p":
        s.action = "load";
        s.file = o.value;
        break;
      case "t":
        s.action = "track";
        s.trackPrefix = false;
        break;
      case "T":
        s.action = "track";
        s.trackPrefix = true;
        break;
      case "C":
        if (!["knet", "totem", "ipc", "schedmiss", "all"].includes(o.value!)) {
          return { exit: 1, message: "argument to -C should be 'knet', 'totem', 'ipc', 'schedmiss' or 'all'" };
        }
        s.action = "clearStats";
        s.clear = o.value;
        s.map = "stats";
        break;
      case "m":
        if (o.value !== "icmap" && o.value !== "default" && o.value !== "stats") {
          return { exit: 1, message: "invalid map name, must be 'default', 'icmap' or 'stats'" };
        }
        s.map = o.value;
        break;
    }
  }
  if (parsed.operands.length === 0 && s.action !== "load" && s.action !== "clearStats" && s.action !== "print") {
    return { exit: 1, message: "Expected key after options" };
  }
  return { settings: s, operands: parsed.operands };
}

/** Runs the tool; resolves to the exit status. */
export async function runCmapctl(argv: string[], io: ToolIo): Promise<number> {
  const p = parseSettings(argv);
  if ("exit" in p) {
    if (p.out !== undefined) io.stdout(p.out);
    if (p.message !== undefined) io.stderr(`${p.message}\n`);
    return p.exit;
  }
  const { settings, operands } = p;
  let cmap: CmapClient | undefined;
  for (let tries = 0; ; tries++) {
    try {
      cmap = await CmapClient.connect({ map: settings.map });
      break;
    } catch (e) {
      if (e instanceof CorosyncError && e.code === "TRY_AGAIN" && tries < MAX_TRY_AGAIN) {
        await sleep(1000);
        continue;
      }
      io.stderr(`Failed to initialize the cmap API. Error ${errText(e)}\n`);
      return 1;
    }
  }
  try {
    return await new Tool(cmap, settings, io).run(operands);
  } catch (e) {
    if (e instanceof ExitError) return e.code;
    throw e;
  } finally {
    await cmap.close();
  }
}

function errText(e: unknown): string {
  return e instanceof CorosyncError ? csStrerror(e.code) : String(e);
}

class Tool {
  constructor(
    private readonly cmap: CmapClient,
    private readonly s: Settings,
    private readonly io: ToolIo,
  ) {}

  async run(operands: string[]): Promise<number> {
    switch (this.s.action) {
      case "print":
        return this.printPrefixes(operands);
      case "get":
        return this.getKeys(operands);
      case "set":
        if (operands.length < 3) return this.fail("At least 3 parameters are expected for set");
        return this.setKey(operands[0]!, operands[1]!, operands[2]!);
      case "delete":
        for (const k of operands) {
          const e = await this.cmap.delete(k).then(() => undefined, (err: unknown) => err);
          if (e !== undefined) return this.fail(`Can't delete key ${k}. Error ${errText(e)}`);
        }
        return 0;
      case "deletePrefix":
        for (const prefix of operands) await this.deletePrefix(prefix);
        return 0;
      case "load":
        return this.load(this.s.file!);
      case "track":
        return this.track(operands);
      case "clearStats":
        await this.cmap.set(`stats.clear.${this.s.clear}`, { type: CmapType.UINT32, value: 1 }).catch((e: unknown) => {
          this.io.stderr(`Failed to clear stats ${this.s.clear}. Error ${errText(e)}\n`);
        });
        return 0;
    }
  }

  private fail(message: string): number {
    this.io.stderr(`${message}\n`);
    return 1;
  }

  private print(key: string, value: CmapValue): void {
    this.io.stdout(`${keyLine(key, value, this.s.showBinary, this.s.quiet)}\n`);
  }

  /** GET with corosync's TRY_AGAIN retries; prints the key or "Can't get value". */
  private async printKey(key: string): Promise<void> {
    for (let tries = 0; ; tries++) {
      try {
        this.print(key, await this.cmap.get(key));
        return;
      } catch (e) {
        if (e instanceof CorosyncError && e.code === "TRY_AGAIN" && tries < MAX_TRY_AGAIN) {
          await sleep(1000);
          continue;
        }
        this.io.stderr(`Can't get value of ${key}. Error ${errText(e)}\n`);
        return;
      }
    }
  }

  /** Prints the keys under `prefix`; true when there were none. */
  private async printIter(prefix: string): Promise<boolean> {
    let none = true;
    try {
      for await (const { key } of this.cmap.keys(prefix)) {
        none = false;
        await this.printKey(key);
      }
    } catch (e) {
      this.io.stderr(`Failed to initialize iteration. Error ${errText(e)}\n`);
      throw new ExitError(1);
    }
    return none;
  }

  /** Exit 1 when no prefix (or, without prefixes, the whole map) had a key, as corosync's tool. */
  private async printPrefixes(prefixes: string[]): Promise<number> {
    let empty = 0;
    if (prefixes.length === 0) empty = (await this.printIter("")) ? 1 : 0;
    for (const prefix of prefixes) empty += (await this.printIter(prefix)) ? 1 : 0;
    return empty > 0 && empty >= prefixes.length ? 1 : 0;
  }

  private async getKeys(keys: string[]): Promise<number> {
    for (const key of keys) {
      try {
        await this.cmap.info(key);
      } catch (e) {
        return this.fail(`Can't get key ${key}. Error ${errText(e)}`);
      }
      await this.printKey(key);
    }
    return 0;
  }

  private async setKey(key: string, typeName: string, text: string): Promise<number> {
    let value: CmapValue | string;
    if (typeName === "bin") {
      try {
        value = { type: CmapType.BINARY, value: new Uint8Array(readFileSync(text === "-" ? 0 : text)) };
      } catch (e) {
        return this.fail(`Can't open input file: ${(e as Error).message}`);
      }
    } else {
      value = parseValue(typeName, text);
    }
    if (typeof value === "string") return this.fail(value);
    try {
      await this.cmap.set(key, value);
      return 0;
    } catch (e) {
      return this.fail(`Failed to set key ${key}. Error ${errText(e)}`);
    }
  }

  private async deletePrefix(prefix: string): Promise<void> {
    const keys: string[] = [];
    try {
      for await (const { key } of this.cmap.keys(prefix)) keys.push(key);
    } catch (e) {
      this.io.stderr(`Failed to initialize iteration. Error ${errText(e)}\n`);
      throw new ExitError(1);
    }
    for (const key of keys) {
      await this.cmap.delete(key).catch((e: unknown) => this.io.stderr(`Can't delete key ${key}. Error ${errText(e)}\n`));
    }
  }

  /** `-p FILE`: corosync's line format, 1023 characters a line at most. */
  private async load(file: string): Promise<number> {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      this.io.stderr(`Couldn't open file.: ${(e as Error).message}\n`);
      return 0;
    }
    for (const raw of text.split("\n")) {
      const line = raw.slice(0, 1023).trim();
      if (line === "" || line.startsWith("#")) continue;
      const [name, typeName, value] = line.split(/\s+/) as [string, string?, string?];
      if (name.startsWith("^^")) {
        await this.deletePrefix(name.slice(2));
      } else if (name.startsWith("^")) {
        const key = name.slice(1);
        await this.cmap.delete(key).catch((e: unknown) => this.io.stderr(`Can't delete key ${key}. Error ${errText(e)}\n`));
      } else {
        if (typeName === undefined || value === undefined) return this.fail(`Both type and value for key ${name} are required`);
        const code = await this.setKey(name, typeName, value);
        if (code !== 0) return code;
      }
    }
    return 0;
  }

  private async track(keys: string[]): Promise<number> {
    for (const key of keys) {
      try {
        const t = await this.cmap.track(key, { prefix: this.s.trackPrefix });
        t.on("change", (c: CmapChange) => this.printChange(c));
      } catch (e) {
        return this.fail(`Failed to add tracking function. Error ${errText(e)}`);
      }
    }
    this.io.stdout('Type "q" to finish\n');
    if (this.io.stdin === undefined) return 0;
    await readLines(this.io.stdin, (line) => line.startsWith("q"));
    return 0;
  }

  private printChange(c: CmapChange): void {
    const label = c.kind === "add" ? "create> " : c.kind === "modify" ? "modify> " : "delete> ";
    const value = c.kind === "delete" ? c.oldValue : c.newValue;
    if (value === undefined) {
      this.io.stdout(`${label}${c.key}\n`);
      return;
    }
    this.io.stdout(`${label}${keyLine(c.key, value, this.s.showBinary, this.s.quiet)}\n`);
  }
}

class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

if (isMainModule(import.meta.url)) runAsProgram(PROGRAM, runCmapctl);
