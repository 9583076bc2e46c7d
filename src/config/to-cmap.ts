/**
 * Flatten a parsed corosync.conf into cmap keys the way corosync 3's `coroparse.c` does
 * (totem-spec §9), keeping the source position of every key.
 *
 * - Plain sections become dotted paths: `totem { token: 1000 }` → `totem.token`.
 * - `nodelist { node { … } }` → `nodelist.node.<n>.<key>`, n = 0, 1, 2… in file order,
 *   continuing across repeated `nodelist` sections (corosync restarts at 0 and overwrites;
 *   merging is what a repeated section means everywhere else).
 * - `totem { interface { … } }` → `totem.interface.<link>.<key>` with the link from
 *   `linknumber` (default 0). Corosync 3 ignores the 1.x `ringnumber` (the section lands on
 *   link 0); we support 1.x redundant rings, so `ringnumber: N` selects link N when
 *   `linknumber` is absent, and is not stored itself. Unknown keys of an interface section
 *   are stored verbatim as `totem.interface.<key>`, as corosync does.
 *   `member { memberaddr: … }` → `totem.interface.<link>.member.<i>` (i in file order).
 * - `logging { logger_subsys { subsys: X … } }` → `logging.logger_subsys.X.<key>`;
 *   `logging_daemon { name: N [subsys: S] … }` as corosync maps it.
 * - `uidgid { uid: U gid: G }` → `uidgid.uid.<U>` / `uidgid.gid.<G>` = u8 1 when no
 *   resolver is given (names are resolved by the daemon, which owns /etc/passwd). With a
 *   resolver, as corosync: `uidgid.config.uid.<numeric uid>` (decimal values are taken
 *   as ids without asking the resolver), and an unknown name is an error.
 * - Typed keys (schema.ts) are stored as their cmap type; a bad number is
 *   `Value of key "<k>" is expected to be integer in range (min..max), but "<v>" was given`.
 * - Duplicate keys: the last one wins, with a warning naming both lines.
 *
 * Pure: no node:* imports.
 */
import { CmapType, type CmapEntry, type CmapValue } from "../core/cmap/types.js";
import { type ConfigDiagnostic, type SourcePos, DiagnosticList } from "./diagnostics.js";
import { type FlatConfig, emptyFlatConfig, toCmapEntries } from "./flat.js";
import type { ConfigItem, ConfigKey, ConfigSection, ConfigTree } from "./parse.js";
import { INTEGER_RANGES, type ValueType, keySpec } from "./schema.js";

/** Resolves a user or group name to its numeric id; undefined when unknown. */
export type IdResolver = (name: string) => number | undefined;

export interface FlattenOptions {
  resolveUid?: IdResolver;
  resolveGid?: IdResolver;
}

export interface FlattenResult {
  entries: CmapEntry[];
  flat: FlatConfig;
  diagnostics: ConfigDiagnostic[];
}

/** Flatten a main configuration file. */
export function flattenConfig(tree: ConfigTree, options: FlattenOptions = {}): FlattenResult {
  const f = new Flattener(tree.file, options);
  f.walk(tree.items, [], []);
  return f.result();
}

/**
 * Flatten one file of the `uidgid.d` directory: only top-level `uidgid` sections holding
 * `uid`/`gid` keys are allowed (corosync's `uidgid_config_parser_cb`).
 */
export function flattenUidGidFile(tree: ConfigTree, options: FlattenOptions = {}): FlattenResult {
  const f = new Flattener(tree.file, options);
  for (const item of tree.items) {
    if (item.kind === "key") f.out.error(f.pos(item), "uidgid: Only uid and gid are allowed items", item.name);
    else if (item.name !== "uidgid") f.out.error(f.pos(item), "uidgid: Can't add subsection different than uidgid");
    else f.uidgid(item);
  }
  return f.result();
}

/**
 * Parse a decimal integer as corosync's `safe_atoq`/`str_to_ull` do (optional sign, digits,
 * nothing else) and check it against the range of `type`.
 */
export function parseInteger(raw: string, type: Exclude<ValueType, "str">): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(raw)) return undefined;
  const v = BigInt(raw);
  const [min, max] = INTEGER_RANGES[type];
  return v < min || v > max ? undefined : v;
}

/** The cmap value of `raw` as `type`, or an error message. */
export function typedValue(key: string, raw: string, type: ValueType): CmapValue | string {
  if (type === "str") return { type: CmapType.STRING, value: raw };
  const v = parseInteger(raw, type);
  if (v === undefined) {
    const [min, max] = INTEGER_RANGES[type];
    return `Value of key "${key}" is expected to be integer in range (${min}..${max}), but "${raw}" was given`;
  }
  switch (type) {
    case "u8":
      return { type: CmapType.UINT8, value: Number(v) };
    case "u16":
      return { type: CmapType.UINT16, value: Number(v) };
    case "u32":
      return { type: CmapType.UINT32, value: Number(v) };
    case "i32":
      return { type: CmapType.INT32, value: Number(v) };
    case "u64":
      return { type: CmapType.UINT64, value: v };
  }
}

class Flattener {
  readonly flat: FlatConfig;
  readonly out = new DiagnosticList();
  private nodeCount = 0;

  constructor(
    private readonly file: string,
    private readonly options: FlattenOptions,
  ) {
    this.flat = emptyFlatConfig(file);
  }

  result(): FlattenResult {
    return { entries: toCmapEntries(this.flat), flat: this.flat, diagnostics: this.out.items };
  }

  pos(item: ConfigItem): SourcePos {
    return { file: this.file, line: item.line, column: item.column };
  }

  /** Store `key`; a later setting replaces an earlier one, with a warning. */
  set(key: string, value: CmapValue, pos: SourcePos): void {
    const old = this.flat.entries.get(key);
    if (old !== undefined) {
      const where = old.pos.file === pos.file ? `line ${old.pos.line}` : `${old.pos.file}:${old.pos.line}`;
      this.out.warning(pos, `Duplicate key '${key}': this value replaces the one at ${where} (the last one wins)`, key);
    }
    this.flat.entries.set(key, { key, value, pos });
  }

  /** Store a key typed as the schema says for `schemaPath` (string when unknown). */
  setTyped(key: string, item: ConfigKey, schemaPath: readonly string[]): void {
    const type = keySpec(schemaPath, item.name)?.type ?? "str";
    const v = typedValue(key, item.value, type);
    if (typeof v === "string") this.out.error({ file: this.file, line: item.line, column: item.valueColumn }, v, key);
    else this.set(key, v, this.pos(item));
  }

  private section(path: string, item: ConfigSection): void {
    if (!this.flat.sections.has(path)) this.flat.sections.set(path, this.pos(item));
  }

  /** Flatten `items` found under the cmap path `prefix` (schema path `schema`). */
  walk(items: readonly ConfigItem[], prefix: readonly string[], schema: readonly string[]): void {
    for (const item of items) {
      if (item.kind === "key") {
        this.setTyped([...prefix, item.name].join("."), item, schema);
        continue;
      }
      const where = [...schema, item.name].join(".");
      if (where === "totem.interface") this.interface(item);
      else if (where === "nodelist.node") this.node(item);
      else if (where === "logging.logger_subsys") this.loggerSubsys(item);
      else if (where === "logging.logging_daemon") this.loggingDaemon(item);
      else if (where === "uidgid") this.uidgid(item);
      else {
        this.section([...prefix, item.name].join("."), item);
        this.walk(item.items, [...prefix, item.name], [...schema, item.name]);
      }
    }
  }

  private keys(section: ConfigSection): ConfigKey[] {
    return section.items.filter((i): i is ConfigKey => i.kind === "key");
  }

  private subsections(section: ConfigSection): ConfigSection[] {
    return section.items.filter((i): i is ConfigSection => i.kind === "section");
  }

  /** The link number of an interface section: `linknumber`, else 1.x `ringnumber`, else 0. */
  private linkOf(section: ConfigSection): number | undefined {
    const keys = this.keys(section);
    const pick = keys.filter((k) => k.name === "linknumber").pop() ?? keys.filter((k) => k.name === "ringnumber").pop();
    if (pick === undefined) return 0;
    const v = typedValue(`totem.interface.${pick.name}`, pick.value, "u8");
    if (typeof v === "string") {
      this.out.error({ file: this.file, line: pick.line, column: pick.valueColumn }, v, `totem.interface.${pick.name}`);
      return undefined;
    }
    return v.value as number;
  }

  private interface(section: ConfigSection): void {
    const link = this.linkOf(section);
    if (link === undefined) return;
    const base = `totem.interface.${link}`;
    this.section(base, section);
    const schema = ["totem", "interface"];
    for (const k of this.keys(section)) {
      if (k.name === "linknumber" || k.name === "ringnumber") continue;
      const known = keySpec(schema, k.name) !== undefined;
      this.setTyped(known ? `${base}.${k.name}` : `totem.interface.${k.name}`, k, schema);
    }
    let member = 0;
    for (const sub of this.subsections(section)) {
      if (sub.name !== "member") {
        this.section(`totem.interface.${sub.name}`, sub);
        this.walk(sub.items, ["totem", "interface", sub.name], [...schema, sub.name]);
        continue;
      }
      for (const item of sub.items) {
        if (item.kind === "key" && item.name === "memberaddr") {
          this.set(`${base}.member.${member++}`, { type: CmapType.STRING, value: item.value }, this.pos(item));
        } else {
          this.out.error(this.pos(item), "Only memberaddr is allowed in member section");
        }
      }
    }
  }

  private node(section: ConfigSection): void {
    const base = `nodelist.node.${this.nodeCount++}`;
    this.section(base, section);
    for (const item of section.items) {
      if (item.kind === "key") this.setTyped(`${base}.${item.name}`, item, ["nodelist", "node"]);
      else this.walk([item], base.split("."), ["nodelist", "node"]);
    }
  }

  /** The last `name` key among the section's keys. */
  private lastKey(section: ConfigSection, name: string): ConfigKey | undefined {
    return this.keys(section).filter((k) => k.name === name).pop();
  }

  private loggerSubsys(section: ConfigSection): void {
    const subsys = this.lastKey(section, "subsys");
    if (subsys === undefined) {
      this.out.error(this.pos(section), "No subsys key in logger_subsys directive");
      return;
    }
    const base = `logging.logger_subsys.${subsys.value}`;
    this.section(base, section);
    for (const k of this.keys(section)) {
      if (k.name !== "subsys") this.setTyped(`${base}.${k.name}`, k, ["logging", "logger_subsys"]);
    }
    this.set(`${base}.subsys`, { type: CmapType.STRING, value: subsys.value }, this.pos(subsys));
    this.walk(this.subsections(section), base.split("."), ["logging", "logger_subsys"]);
  }

  /** corosync's mapping of `logging_daemon { name subsys … }` (`coroparse.c`). */
  private loggingDaemon(section: ConfigSection): void {
    const nameKey = this.lastKey(section, "name");
    if (nameKey === undefined) {
      this.out.error(this.pos(section), "No name key in logging_daemon directive");
      return;
    }
    const name = nameKey.value;
    const subsys = this.lastKey(section, "subsys")?.value;
    const self = name === "corosync";
    const base =
      subsys === undefined
        ? self ? "logging" : `logging.logging_daemon.${name}`
        : self ? `logging.logger_subsys.${subsys}` : `logging.logging_daemon.${name}.${subsys}`;
    this.section(base, section);
    for (const k of this.keys(section)) {
      if (k.name !== "name" && k.name !== "subsys") this.setTyped(`${base}.${k.name}`, k, ["logging", "logging_daemon"]);
    }
    const str = (value: string): CmapValue => ({ type: CmapType.STRING, value });
    if (subsys !== undefined) this.set(`${base}.subsys`, str(subsys), this.pos(section));
    if (!self) this.set(`${base}.name`, str(name), this.pos(section));
  }

  uidgid(section: ConfigSection): void {
    this.section("uidgid", section);
    for (const item of section.items) {
      if (item.kind === "section") {
        this.out.error(this.pos(item), "uidgid: Can't add subsection different than uidgid");
      } else if (item.name === "uid" || item.name === "gid") {
        this.uidgidItem(item);
      } else {
        this.out.error(this.pos(item), "uidgid: Only uid and gid are allowed items", `uidgid.${item.name}`);
      }
    }
  }

  private uidgidItem(item: ConfigKey): void {
    const kind = item.name as "uid" | "gid";
    const what = kind === "uid" ? "user" : "group";
    const valuePos = { file: this.file, line: item.line, column: item.valueColumn };
    if (item.value === "") {
      this.out.error(valuePos, `uidgid: ${kind} needs a ${what} name or number`, `uidgid.${kind}`);
      return;
    }
    const resolve = kind === "uid" ? this.options.resolveUid : this.options.resolveGid;
    const one: CmapValue = { type: CmapType.UINT8, value: 1 };
    if (resolve === undefined) {
      this.set(`uidgid.${kind}.${item.value}`, one, this.pos(item));
      return;
    }
    const numeric = parseInteger(item.value, "u32");
    const id = numeric !== undefined && !item.value.startsWith("+") && !item.value.startsWith("-") ? Number(numeric) : resolve(item.value);
    if (id === undefined) {
      const db = kind === "uid" ? "/etc/passwd" : "/etc/group";
      this.out.error(valuePos, `The '${item.value}' ${what} is not found in ${db}, please read the documentation.`, `uidgid.${kind}`);
      return;
    }
    this.set(`uidgid.config.${kind}.${id}`, one, this.pos(item));
  }
}
