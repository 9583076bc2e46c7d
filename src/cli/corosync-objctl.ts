#!/usr/bin/env node
/**
 * `corosync-objctl`: corosync 1.x's object database tool, kept for 1.x habits and scripts,
 * working over the objdb view of cmap (src/core/cmap/objdb.ts; totem-spec §8.1):
 *
 *   corosync-objctl [-b] [-a]                 every key as `object.key=value`
 *                                             (`totem.interface.mcastport=5405`)
 *   corosync-objctl [-b] PATH...              an object's subtree, or one key
 *   corosync-objctl -w PATH.key=value...      set a key of an existing object
 *   corosync-objctl -n PATH.key=value...      set a key, creating the object; for a repeated
 *                                             section (`nodelist.node`, `totem.interface`) a
 *                                             new instance is made
 *   corosync-objctl -d PATH... | PATH.key[=v] delete an object (every key under it) or a key
 *   corosync-objctl -t PATH...                print `key_changed> object.key=value`,
 *                                             `object_created>name`, `object_deleted>name`
 *                                             until `q` or end of input
 *   corosync-objctl -p FILE                   apply `PATH.key=value` lines (# comments)
 *
 * How 1.x operations map onto cmap: an object is the set of keys under its cmap prefix
 * (`totem.interface.0.` for the first `totem.interface`); a path naming a repeated section
 * means its first instance, as 1.x's `object_find` did. A written value keeps the type the
 * key has (1.x stored strings; corosync 3 keys are typed), a new key is a string. `-c`
 * (create an empty object) cannot map — cmap has no empty objects — and says so (exit 1).
 * Errors print 1.x's messages with corosync's numeric cs_error_t (`Error 11` = ACCESS).
 */
import { readFileSync } from "node:fs";
import { CmapClient, type CmapChange } from "../client/cmap.js";
import { CorosyncError, CS_ERROR_CODES } from "../client/errors.js";
import { CmapStore } from "../core/cmap/store.js";
import { CmapType, type CmapValue } from "../core/cmap/types.js";
import { CMAP_BIGINT_RANGES, CMAP_INT_RANGES } from "../core/cmap/values.js";
import { cmapKeyToObjdb, objdbLines, objdbTree, objdbValueText, OBJDB_REPEATED_SECTIONS, type ObjdbObject } from "../core/cmap/objdb.js";
import { getopt, isMainModule, OptionError, readLines, runAsProgram, type ToolIo } from "./cli-support.js";

const PROGRAM = "corosync-objctl";

const USAGE = `
usage:  corosync-objctl [-b] object.key ...            print an object or a key
        corosync-objctl -c object.child_obj ...        create an object (not possible on cmap)
        corosync-objctl -d object.child_obj ...        delete an object, or a key (object.key)
        corosync-objctl -w object.child_obj.key=value  set a key of an existing object
        corosync-objctl -n object.child_obj.key=value  set a key, creating the object
        corosync-objctl -t object.child_obj ...        track changes under an object
        corosync-objctl [-b] -a                        print all objects
        corosync-objctl -p <filename>                  apply object.key=value lines from a file

`;

type Action = "read" | "all" | "write" | "create" | "createKey" | "delete" | "track";

function errNo(e: unknown): number {
  return e instanceof CorosyncError ? e.csError : CS_ERROR_CODES.LIBRARY;
}

/** `a.b.c=value` → parent path `a.b`, key `c`, value (1.x: spaces outside quotes dropped). */
export function splitAssignment(text: string): { parent: string; key: string; value: string } {
  const eq = text.indexOf("=");
  const left = (eq < 0 ? text : text.slice(0, eq)).replace(/\s+/g, "");
  const value = eq < 0 ? "" : stripSpaces(text.slice(eq + 1));
  const dot = left.lastIndexOf(".");
  return { parent: dot < 0 ? "" : left.slice(0, dot), key: dot < 0 ? left : left.slice(dot + 1), value };
}

function stripSpaces(s: string): string {
  let out = "";
  let quoted = false;
  for (const c of s) {
    if (c === '"') quoted = !quoted;
    if (c !== " " || quoted) out += c;
  }
  return out;
}

/** `text` as a value of `type` (a written key keeps its type); undefined when it does not fit. */
export function valueAs(type: CmapType, text: string): CmapValue | undefined {
  switch (type) {
    case CmapType.STRING:
      return { type, value: text };
    case CmapType.BINARY:
      return { type, value: new TextEncoder().encode(text) };
    case CmapType.FLOAT:
    case CmapType.DOUBLE:
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? { type, value: Number(text) } : undefined;
    default: {
      if (!/^[+-]?\d+$/.test(text)) return undefined;
      const v = BigInt(text);
      if (type === CmapType.INT64 || type === CmapType.UINT64) {
        const [min, max] = CMAP_BIGINT_RANGES[type];
        return v < min || v > max ? undefined : { type, value: v };
      }
      const [min, max] = CMAP_INT_RANGES[type as keyof typeof CMAP_INT_RANGES];
      return v < BigInt(min) || v > BigInt(max) ? undefined : ({ type, value: Number(v) } as CmapValue);
    }
  }
}

/** The first object at dotted `path` (1.x `object_find` takes the first of a name). */
export function findObject(root: ObjdbObject, path: string): ObjdbObject | undefined {
  if (path === "") return root;
  let node: ObjdbObject | undefined = root;
  for (const name of path.split(".")) {
    node = node.children.find((c) => c.name === name);
    if (node === undefined) return undefined;
  }
  return node;
}

/** The cmap key behind key `key` of object `obj` (existing, or where a new one goes). */
function cmapKeyOf(obj: ObjdbObject, key: string): string {
  const existing = obj.keys.find((k) => k.name === key && !k.synthesized);
  if (existing !== undefined) return existing.cmapKey;
  const section = OBJDB_REPEATED_SECTIONS.find((s) => s.path === obj.path);
  if (section?.leafKey === key && obj.instance !== undefined) return obj.cmapPrefix.slice(0, -1);
  return obj.cmapPrefix + key;
}

class ObjTool {
  constructor(
    private readonly cmap: CmapClient,
    private readonly io: ToolIo,
    private readonly showBinary: boolean,
  ) {}

  /** A local copy of the whole map (the objdb view is computed from it). */
  async snapshot(): Promise<CmapStore> {
    const store = new CmapStore();
    for await (const { key, value } of this.cmap.iterate("")) {
      try {
        store.set(key, value, { force: true });
      } catch {
        // A value our store cannot hold (a NaN float from a C corosync): leave it out.
      }
    }
    return store;
  }

  async printAll(): Promise<number> {
    for (const line of objdbLines(await this.snapshot(), { showBinary: this.showBinary })) this.io.stdout(`${line}\n`);
    return 0;
  }

  async read(paths: string[]): Promise<void> {
    const store = await this.snapshot();
    for (const p of paths) for (const line of objdbLines(store, { prefix: p, showBinary: this.showBinary })) this.io.stdout(`${line}\n`);
  }

  /** `-w` (object must exist) and `-n` / `-p` (created as needed). */
  async write(text: string, create: "no" | "object" | "instance"): Promise<number> {
    const { parent, key, value } = splitAssignment(text);
    if (key === "" || key.includes("=")) return this.fail('Incorrect key name, can not have "=" or "."');
    const root = objdbTree(await this.snapshot());
    let cmapKey: string;
    const obj = findObject(root, parent);
    if (obj !== undefined && create !== "instance") cmapKey = cmapKeyOf(obj, key);
    else if (create === "no") return this.fail(`Can't find parent object of "${text}"`);
    else {
      const made = newObjectKey(root, parent, key, value, create === "instance");
      if (made.error !== undefined) return this.fail(made.error);
      cmapKey = made.key;
    }
    let old: CmapValue | undefined;
    try {
      old = await this.cmap.get(cmapKey);
    } catch {
      old = undefined;
    }
    const typed = valueAs(old?.type ?? CmapType.STRING, value);
    const verb = old === undefined ? "create" : "replace";
    if (typed === undefined) return this.fail(`Failed to ${verb} the key ${key}=${value}. Error ${CS_ERROR_CODES.INVALID_PARAM}`);
    try {
      await this.cmap.set(cmapKey, typed);
      return 0;
    } catch (e) {
      this.io.stderr(`Failed to ${verb} the key ${key}=${value}. Error ${errNo(e)}\n`);
      return 0;
    }
  }

  async delete(text: string): Promise<number> {
    const root = objdbTree(await this.snapshot());
    const obj = text.includes("=") ? undefined : findObject(root, text);
    if (obj !== undefined && obj !== root) {
      for (const k of collectKeys(obj)) {
        await this.cmap.delete(k).catch((e: unknown) => this.io.stderr(`Failed to find object "${text}" to delete. Error ${errNo(e)}\n`));
      }
      return 0;
    }
    const { parent, key, value } = splitAssignment(text);
    const owner = findObject(root, parent);
    if (owner === undefined || parent === "") return this.fail(`Failed to find the key's parent object "${parent}". Error ${CS_ERROR_CODES.NOT_EXIST}`);
    try {
      await this.cmap.delete(cmapKeyOf(owner, key));
    } catch (e) {
      this.io.stderr(`Failed to delete key "${key}=${value}" from object "${parent}". Error ${errNo(e)}\n`);
    }
    return 0;
  }

  async track(paths: string[]): Promise<number> {
    const root = objdbTree(await this.snapshot());
    const known = new Map<string, number>();
    for (const p of paths) {
      const obj = findObject(root, p);
      if (obj === undefined) {
        this.io.stderr(`Could not find object "${p}". Error ${CS_ERROR_CODES.NOT_EXIST}\n`);
        continue;
      }
      for (const o of walk(obj)) if (o.keys.length > 0) known.set(o.cmapPrefix, o.keys.filter((k) => !k.synthesized).length);
      const t = await this.cmap.track(obj.cmapPrefix, { prefix: true });
      t.on("change", (c: CmapChange) => this.printChange(c, known));
    }
    this.io.stdout('Type "q" to finish\n');
    if (this.io.stdin !== undefined) await readLines(this.io.stdin, (line) => line.startsWith("q"));
    return 0;
  }

  /**
   * 1.x's `tail_key_changed` / `tail_object_created` / `tail_object_deleted` lines: an object
   * is created with its first key and deleted with its last (`known` counts keys per object).
   */
  private printChange(c: CmapChange, known: Map<string, number>): void {
    const loc = cmapKeyToObjdb(c.key);
    const objectName = printable(loc.objects[loc.objects.length - 1]?.name ?? "");
    const prefix = c.key.slice(0, c.key.length - c.key.split(".").pop()!.length);
    const count = known.get(prefix) ?? 0;
    if (c.kind === "add") {
      known.set(prefix, count + 1);
      if (count === 0) this.io.stdout(`object_created>${objectName}\n`);
    }
    const value = c.kind === "delete" ? c.oldValue : c.newValue;
    const text = value === undefined ? "" : objdbValueText(value, this.showBinary);
    this.io.stdout(`key_changed> ${objectName}.${printable(loc.key)}=${printable(text)}\n`);
    if (c.kind === "delete") {
      if (count <= 1) {
        known.delete(prefix);
        this.io.stdout(`object_deleted>${objectName}\n`);
      } else known.set(prefix, count - 1);
    }
  }

  private fail(message: string): number {
    this.io.stderr(`${message}\n`);
    return 1;
  }
}

/**
 * Where `parent.key` goes when the object is to be made: a new instance of a numeric repeated
 * section (`nodelist.node` → the next free index); a named section's instance is named by
 * its name key (`logging.logger_subsys.subsys=QUORUM` → instance `QUORUM`); otherwise the
 * first existing instance.
 */
function newObjectKey(root: ObjdbObject, parent: string, key: string, value: string, newInstance: boolean): { key: string; error?: undefined } | { error: string } {
  const names = parent === "" ? [] : parent.split(".");
  const out: string[] = [];
  let node: ObjdbObject | undefined = root;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const section = OBJDB_REPEATED_SECTIONS.find((s) => s.path === names.slice(0, i + 1).join("."));
    const siblings: ObjdbObject[] = node?.children.filter((c) => c.name === name) ?? [];
    out.push(name);
    if (section === undefined) {
      node = siblings[0];
      continue;
    }
    const last = i === names.length - 1;
    if (last && section.instance === "named" && key === section.nameKey) {
      out.push(value);
      node = siblings.find((c) => c.instance === value);
    } else if (last && newInstance && section.instance === "numeric") {
      const used = siblings.map((c) => Number(c.instance ?? -1));
      out.push(String(used.length === 0 ? 0 : Math.max(...used) + 1));
      node = undefined;
    } else if (siblings[0]?.instance !== undefined) {
      out.push(siblings[0].instance);
      node = siblings[0];
    } else if (section.instance === "numeric") {
      out.push("0");
      node = undefined;
    } else {
      return { error: `Which ${section.path} is meant? Write its ${section.nameKey ?? "name"} key first` };
    }
  }
  const lastSection = OBJDB_REPEATED_SECTIONS.find((s) => s.path === parent);
  if (lastSection?.leafKey === key) return { key: out.join(".") };
  return { key: [...out, key].join(".") };
}

function* walk(o: ObjdbObject): Generator<ObjdbObject> {
  yield o;
  for (const c of o.children) yield* walk(c);
}

function collectKeys(o: ObjdbObject): string[] {
  const out: string[] = [];
  for (const n of walk(o)) for (const k of n.keys) if (!k.synthesized) out.push(k.cmapKey);
  return out;
}

/** 1.x printed `?` for every non-printable byte. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}

/** Runs the tool; resolves to the exit status. */
export async function runObjctl(argv: string[], io: ToolIo): Promise<number> {
  let parsed;
  try {
    parsed = getopt(argv, "habwncvdtp:", PROGRAM);
  } catch (e) {
    if (e instanceof OptionError) {
      io.stderr(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  let action: Action = "read";
  let showBinary = false;
  let file: string | undefined;
  for (const o of parsed.options) {
    if (o.name === "h") {
      io.stdout(USAGE);
      return 0;
    }
    if (o.name === "b") showBinary = true;
    else if (o.name === "p") file = o.value;
    else if (o.name === "a") action = "all";
    else if (o.name === "c") action = "create";
    else if (o.name === "d") action = "delete";
    else if (o.name === "w") action = "write";
    else if (o.name === "n") action = "createKey";
    else if (o.name === "t") action = "track";
  }
  if (file === undefined && action !== "all" && argv.length > 0 && parsed.operands.length === 0) {
    io.stderr("Expected an object path after options\n");
    return 1;
  }
  if (action === "create") {
    io.stderr("corosync-objctl: -c cannot be done on corosync 3's cmap (an object exists only through its keys); use -n object.key=value\n");
    return 1;
  }
  let cmap: CmapClient;
  try {
    cmap = await CmapClient.connect();
  } catch (e) {
    io.stderr(`Failed to initialize the objdb API. Error ${errNo(e)}\n`);
    return 1;
  }
  try {
    const tool = new ObjTool(cmap, io, showBinary);
    if (file !== undefined) return await loadFile(tool, file, io);
    if (argv.length === 0 || action === "all") return await tool.printAll();
    return await runAction(tool, action, parsed.operands);
  } finally {
    await cmap.close();
  }
}

async function runAction(tool: ObjTool, action: Action, operands: string[]): Promise<number> {
  if (action === "read") {
    await tool.read(operands);
    return 0;
  }
  if (action === "track") return tool.track(operands);
  for (const op of operands) {
    const code = action === "delete" ? await tool.delete(op) : await tool.write(op, action === "write" ? "no" : "instance");
    if (code !== 0) return code;
  }
  return 0;
}

/** `-p FILE`: each `object.key=value` line creates what is missing and writes the key. */
async function loadFile(tool: ObjTool, file: string, io: ToolIo): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    io.stderr(`Couldn't access file.: ${(e as Error).message}\n`);
    return 255;
  }
  for (const raw of text.split("\n")) {
    const line = raw.slice(0, 1023).trim();
    if (line === "" || line.startsWith("#")) continue;
    const code = await tool.write(line, "object");
    if (code !== 0) return code;
  }
  return 0;
}

if (isMainModule(import.meta.url)) runAsProgram(PROGRAM, runObjctl);
