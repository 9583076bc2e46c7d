/**
 * The structural pass of validation: walks the syntax tree against the schema and reports
 * unknown sections and keys (with a "did you mean" suggestion), obsolete keys, settings that
 * have no effect here, and string values outside the accepted set. Works on the tree (not
 * the flattened map) so that every occurrence is checked at its own line and column.
 *
 * `uidgid` and interface `member` sections are left to the flattening, which rejects
 * anything but their keys.
 * Pure: no node:* imports.
 */
import type { DiagnosticList, SourcePos } from "./diagnostics.js";
import type { ConfigItem, ConfigKey, ConfigSection, ConfigTree } from "./parse.js";
import { CONFIG_SCHEMA, type KeySpec, type SectionSpec } from "./schema.js";
import { didYouMean } from "./suggest.js";

/** Check every item of `tree` against the schema. */
export function checkStructure(tree: ConfigTree, out: DiagnosticList): void {
  new StructureWalker(tree.file, out).items(tree.items, [], [], CONFIG_SCHEMA);
}

class StructureWalker {
  private nodeCount = 0;

  constructor(
    private readonly file: string,
    private readonly out: DiagnosticList,
  ) {}

  private pos(item: ConfigItem): SourcePos {
    return { file: this.file, line: item.line, column: item.column };
  }

  /**
   * Check `items` of the section at schema path `path`; `keyPath` is the cmap prefix used
   * to name keys in messages (with node and link numbers where known).
   */
  items(items: readonly ConfigItem[], path: readonly string[], keyPath: readonly string[], spec: SectionSpec): void {
    for (const item of items) {
      if (item.kind === "key") this.key(item, path, keyPath, spec);
      else this.section(item, path, keyPath, spec);
    }
  }

  private key(item: ConfigKey, path: readonly string[], keyPath: readonly string[], spec: SectionSpec): void {
    const key = [...keyPath, item.name].join(".");
    const ks = spec.keys[item.name];
    if (ks === undefined) {
      const where = path.length === 0 ? "at top level" : `in section '${path.join(".")}'`;
      const hint = didYouMean(item.name, Object.keys(spec.keys));
      this.out.warning(this.pos(item), `Unknown key '${item.name}' ${where}${hint}; it is stored but not used`, key);
      return;
    }
    if (ks.noEffect !== undefined) this.out.notice(this.pos(item), `'${key}' has no effect here: ${ks.noEffect}`, key);
    if (ks.replacedBy !== undefined) {
      this.out.warning(
        this.pos(item),
        `Key '${item.name}' is obsolete; did you mean '${ks.replacedBy}'? (its value is still honoured as ${ks.replacedBy})`,
        key,
      );
    }
    this.value(item, key, ks);
  }

  private value(item: ConfigKey, key: string, ks: KeySpec): void {
    if (ks.values === undefined || ks.values.includes(item.value)) return;
    const base = ks.invalid ?? `Invalid value for ${key}`;
    const message = /Should be|expected/.test(base)
      ? `${base} ("${item.value}" was given)`
      : `${base}: "${item.value}" was given; expected ${ks.values.join(", ")}`;
    this.out.error({ file: this.file, line: item.line, column: item.valueColumn }, message, key);
  }

  private section(item: ConfigSection, path: readonly string[], keyPath: readonly string[], spec: SectionSpec): void {
    const sub = spec.sections[item.name];
    const subPath = [...path, item.name];
    if (sub === undefined) {
      const where = path.length === 0 ? "Unknown section" : `Unknown section '${item.name}' in section '${path.join(".")}'`;
      const hint = didYouMean(item.name, Object.keys(spec.sections));
      const text = path.length === 0 ? `${where} '${item.name}'${hint}; it is stored but not used` : `${where}${hint}; it is stored but not used`;
      this.out.warning(this.pos(item), text, subPath.join("."));
      return;
    }
    if (sub.noEffect !== undefined) {
      this.out.notice(this.pos(item), `Section '${item.name}' has no effect here: ${sub.noEffect}`, subPath.join("."));
      return;
    }
    // uidgid and member sections: the flattening already rejects anything but their keys.
    if (sub.open === true || ["uidgid", "totem.interface.member"].includes(subPath.join("."))) return;
    this.items(item.items, subPath, this.keyPathOf(item, subPath, keyPath), sub);
  }

  /** The cmap prefix of a section, numbering nodes and links as the flattening does. */
  private keyPathOf(item: ConfigSection, subPath: readonly string[], keyPath: readonly string[]): string[] {
    const where = subPath.join(".");
    const last = (name: string) => item.items.filter((i): i is ConfigKey => i.kind === "key" && i.name === name).pop()?.value;
    if (where === "nodelist.node") return [...keyPath, item.name, String(this.nodeCount++)];
    if (where === "totem.interface") {
      const link = last("linknumber") ?? last("ringnumber") ?? "0";
      return [...keyPath, item.name, /^\d+$/.test(link) ? String(Number(link)) : link];
    }
    if (where === "logging.logger_subsys") return [...keyPath, item.name, last("subsys") ?? "?"];
    return [...keyPath, item.name];
  }
}
