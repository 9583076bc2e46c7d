/**
 * Print a configuration tree back as corosync.conf text: one item per line, sections as
 * `name {` … `}`, keys as `key: value`, one tab of indent per level, LF line endings.
 *
 * `parseConfig(printConfig(items))` gives back the same items (positions aside) for every
 * printable tree; `printable` says which trees those are. Pure.
 */
import type { ConfigItem } from "./parse.js";

/** Why an item cannot be printed so that it parses back the same, or undefined if it can. */
export function unprintableReason(item: ConfigItem): string | undefined {
  const name = item.name;
  if (name === "" || name !== name.trim() || /[\n\r{]/.test(name) || name.startsWith("#")) {
    return `name ${JSON.stringify(name)} cannot be written on a line of its own`;
  }
  if (item.kind === "section") {
    if (name.endsWith(":")) return `section name ${JSON.stringify(name)} ends in ':'`;
    for (const child of item.items) {
      const why = unprintableReason(child);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  if (name.includes(":") || name.includes("}")) return `key name ${JSON.stringify(name)} contains ':' or '}'`;
  const v = item.value;
  if (/[\n\r{]/.test(v) || v !== v.replace(/^[ \t]+|[ \t]+$/g, "")) {
    return `value ${JSON.stringify(v)} of key ${JSON.stringify(name)} cannot be written after 'key:'`;
  }
  return undefined;
}

/** True when every item can be printed and parsed back unchanged. */
export function printable(items: readonly ConfigItem[]): boolean {
  return items.every((i) => unprintableReason(i) === undefined);
}

/**
 * Render `items` as text. Throws a `RangeError` for an unprintable tree (a name or value
 * holding '{' or a newline): silently writing it would change the configuration.
 */
export function printConfig(items: readonly ConfigItem[]): string {
  const out: string[] = [];
  for (const item of items) printItem(item, 0, out);
  return out.join("");
}

function printItem(item: ConfigItem, depth: number, out: string[]): void {
  const why = unprintableReason(item);
  if (why !== undefined) throw new RangeError(`printConfig: ${why}`);
  const indent = "\t".repeat(depth);
  if (item.kind === "key") {
    out.push(item.value === "" ? `${indent}${item.name}:\n` : `${indent}${item.name}: ${item.value}\n`);
    return;
  }
  out.push(`${indent}${item.name} {\n`);
  for (const child of item.items) printItem(child, depth + 1, out);
  out.push(`${indent}}\n`);
}
