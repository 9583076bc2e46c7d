/**
 * A corosync 1.x objdb view of the cmap store (totem-spec §8.1): the tree of named objects
 * holding keys that `corosync-objctl` printed as `object.key=value` lines. It is computed
 * from the store on demand; it is a view, not a second store.
 *
 * Mapping (cmap key → objdb object path + key):
 * - The last dotted component is the key name; the components before it are nested
 *   objects: `totem.token` is key `token` of object `totem`.
 * - Repeated sections (`OBJDB_REPEATED_SECTIONS`) are several objects with the same name.
 *   cmap (corosync 3) tells them apart by an extra component after the section name; the
 *   view turns that component into the object's `instance` and leaves it out of the path:
 *   `totem.interface.0.mcastport` → object `totem.interface` (instance `0`), key
 *   `mcastport`, printed `totem.interface.mcastport=5405`;
 *   `nodelist.node.1.ring0_addr` → `nodelist.node.ring0_addr=…` (instance `1`);
 *   `logging.logger_subsys.QUORUM.debug` → `logging.logger_subsys.debug=on` (instance
 *   `QUORUM`). A component becomes an instance only if a key name follows it (or the
 *   section has a `leafKey`); numeric sections take only decimal components.
 * - Named sections carry their name in a key, as 1.x required (`logger_subsys { subsys: X }`,
 *   `logging_daemon { name: X }`); coroparse stores that key too, and when it is missing
 *   the view adds it (`synthesized: true`) so every instance shows which one it is.
 * - `totem.interface.<l>.member.<i>` holds an address as its value; 1.x wrote it as
 *   `member { memberaddr: … }`, so the view shows object `totem.interface.member` with key
 *   `memberaddr`.
 * - Everything else keeps its components as object names, numbers included, as 1.x did for
 *   runtime objects (`runtime.totem.pg.mrp.srp.members.<nodeid>.ip`).
 *   `logging.logging_daemon.<name>.<subsys>.<key>` therefore shows a child object named after
 *   the subsystem.
 *
 * Order, as objctl's `print_config_tree`: an object's keys first, then its child objects,
 * depth first. Keys and objects come in the store's (byte-wise) order, except that the
 * instances of a numeric section are in numeric order (`interface.2` before `interface.10`)
 * and the name key of a named section's instance comes first (`subsys=QUORUM`, then the
 * rest), as 1.x configurations wrote it. An object with neither keys nor children prints
 * as its bare path (cannot arise from a store, kept for fidelity).
 *
 * Reverse mapping (`objdbKeyToCmapKey`): an objdb key path plus one instance per repeated
 * section on the path gives the cmap key, so `corosync-objctl -w
 * totem.interface.mcastport=5406` can be served as a cmap set of
 * `totem.interface.0.mcastport`.
 */
import { CmapType, type CmapValue } from "./types.js";
import { CmapError } from "./errors.js";
import type { CmapStore } from "./store.js";
import { escapeBinary, formatFixed } from "./format.js";

/** A section of which several objects of one name may exist. */
export interface RepeatedSection {
  /** The objdb path of the repeated object, e.g. `totem.interface`. */
  readonly path: string;
  /** `numeric`: instances are decimal indices; `named`: any component names an instance. */
  readonly instance: "numeric" | "named";
  /** The key that names an instance in 1.x (`subsys`), added by the view when missing. */
  readonly nameKey?: string;
  /** The key a bare `<path>.<instance>` cmap key becomes (`member.<i>` → `memberaddr`). */
  readonly leafKey?: string;
}

/** The repeated sections of corosync's configuration (coroparse's special sections). */
export const OBJDB_REPEATED_SECTIONS: readonly RepeatedSection[] = [
  { path: "totem.interface", instance: "numeric" },
  { path: "totem.interface.member", instance: "numeric", leafKey: "memberaddr" },
  { path: "nodelist.node", instance: "numeric" },
  { path: "logging.logger_subsys", instance: "named", nameKey: "subsys" },
  { path: "logging.logging_daemon", instance: "named", nameKey: "name" },
];

/** confdb's type number for values it could not type (`CONFDB_VALUETYPE_ANY`), as objctl prints binary. */
export const CONFDB_VALUETYPE_ANY = 9;

/** A key of an objdb object. */
export interface ObjdbKey {
  readonly name: string;
  readonly value: CmapValue;
  /** The cmap key holding the value (for a synthesized key, the one it would be). */
  readonly cmapKey: string;
  /** True if the view added this key (see "Named sections" above). */
  readonly synthesized?: boolean;
}

/** An objdb object. The root has name "" and path "". */
export interface ObjdbObject {
  readonly name: string;
  /** Dotted objdb path, instances left out: `totem.interface`. */
  readonly path: string;
  /** The instance component of a repeated section (`"0"`, `"QUORUM"`), else undefined. */
  readonly instance: string | undefined;
  /** Depth-first position in the view (root 0), a stand-in for 1.x's object handles. */
  readonly handle: number;
  /** The cmap prefix of this object's keys: `totem.interface.0.` ("" for the root). */
  readonly cmapPrefix: string;
  readonly keys: ObjdbKey[];
  readonly children: ObjdbObject[];
}

export interface ObjdbOptions {
  /** Only lines whose `object.key` path is this path or lies below it (`totem`, `totem.interface`). */
  prefix?: string;
  /** Print binary values escaped (objctl `-b`) instead of `**binary**(9)`. */
  showBinary?: boolean;
  /** Leave out the top-level `internal_configuration` object, as objctl does without `-a`. */
  skipInternalConfiguration?: boolean;
  /** Repeated sections to recognise; defaults to `OBJDB_REPEATED_SECTIONS`. */
  sections?: readonly RepeatedSection[];
}

/** Where a cmap key lands in the view. */
export interface ObjdbLocation {
  /** Objects from the top, each with its instance when it is one of a repeated section. */
  objects: Array<{ name: string; instance?: string }>;
  /** Key name within the innermost object. */
  key: string;
  /** Dotted objdb path of the key: `totem.interface.mcastport`. */
  path: string;
}

interface MutableObject {
  name: string;
  path: string;
  instance: string | undefined;
  handle: number;
  cmapPrefix: string;
  keys: ObjdbKey[];
  children: MutableObject[];
  index: Map<string, MutableObject>;
}

/** Where the cmap key `cmapKey` appears in the objdb view. */
export function cmapKeyToObjdb(cmapKey: string, sections: readonly RepeatedSection[] = OBJDB_REPEATED_SECTIONS): ObjdbLocation {
  const parts = cmapKey.split(".");
  const objects: ObjdbLocation["objects"] = [];
  const names: string[] = [];
  let i = 0;
  while (i < parts.length - 1) {
    const name = parts[i] as string;
    const section = findSection(sections, [...names, name].join("."));
    const next = parts[i + 1] as string;
    const isLeaf = i + 2 === parts.length;
    if (section !== undefined && instanceFits(section, next) && (!isLeaf || section.leafKey !== undefined)) {
      objects.push({ name, instance: next });
      names.push(name);
      if (isLeaf) return location(objects, names, section.leafKey as string);
      i += 2;
    } else {
      objects.push({ name });
      names.push(name);
      i += 1;
    }
  }
  return location(objects, names, parts[parts.length - 1] as string);
}

function location(objects: ObjdbLocation["objects"], names: string[], key: string): ObjdbLocation {
  return { objects, key, path: [...names, key].join(".") };
}

/** The objdb tree of `store` (keys under `options.prefix`, a cmap prefix, if given). */
export function objdbTree(store: CmapStore, options: { cmapPrefix?: string; sections?: readonly RepeatedSection[] } = {}): ObjdbObject {
  const sections = options.sections ?? OBJDB_REPEATED_SECTIONS;
  const root = newObject("", "", undefined, "");
  for (const { key, value } of store.iter(options.cmapPrefix ?? "")) {
    const loc = cmapKeyToObjdb(key, sections);
    let node = root;
    for (const o of loc.objects) node = childOf(node, o.name, o.instance);
    node.keys.push({ name: loc.key, value, cmapKey: key });
  }
  finish(root, sections, { next: 0 });
  return publish(root);
}

function publish(node: MutableObject): ObjdbObject {
  return {
    name: node.name,
    path: node.path,
    instance: node.instance,
    handle: node.handle,
    cmapPrefix: node.cmapPrefix,
    keys: node.keys,
    children: node.children.map(publish),
  };
}

function newObject(name: string, path: string, instance: string | undefined, cmapPrefix: string): MutableObject {
  return { name, path, instance, handle: 0, cmapPrefix, keys: [], children: [], index: new Map() };
}

function childOf(parent: MutableObject, name: string, instance: string | undefined): MutableObject {
  const id = instance === undefined ? name : `${name}\0${instance}`;
  let child = parent.index.get(id);
  if (child === undefined) {
    const path = parent.path === "" ? name : `${parent.path}.${name}`;
    const prefix = `${parent.cmapPrefix}${name}.${instance === undefined ? "" : instance + "."}`;
    child = newObject(name, path, instance, prefix);
    parent.index.set(id, child);
    parent.children.push(child);
  }
  return child;
}

/** Orders numeric instances, adds missing name keys, numbers handles depth first. */
function finish(node: MutableObject, sections: readonly RepeatedSection[], counter: { next: number }): void {
  node.handle = counter.next++;
  const section = node.instance === undefined ? undefined : findSection(sections, node.path);
  if (section?.nameKey !== undefined) nameKeyFirst(node, section.nameKey);
  node.children = groupInstances(node.children, sections);
  for (const c of node.children) finish(c, sections, counter);
}

/** Puts the instance's name key first, adding it when the store lacks it. */
function nameKeyFirst(node: MutableObject, nameKey: string): void {
  const at = node.keys.findIndex((k) => k.name === nameKey);
  if (at >= 0) {
    node.keys.unshift(...node.keys.splice(at, 1));
    return;
  }
  const value: CmapValue = { type: CmapType.STRING, value: node.instance as string };
  node.keys.unshift({ name: nameKey, value, cmapKey: node.cmapPrefix + nameKey, synthesized: true });
}

/** Keeps first-appearance order of names; instances of a numeric section in numeric order. */
function groupInstances(children: MutableObject[], sections: readonly RepeatedSection[]): MutableObject[] {
  const groups = new Map<string, MutableObject[]>();
  for (const c of children) {
    const g = groups.get(c.name);
    if (g === undefined) groups.set(c.name, [c]);
    else g.push(c);
  }
  const out: MutableObject[] = [];
  for (const group of groups.values()) {
    const first = group[0] as MutableObject;
    if (group.length > 1 && findSection(sections, first.path)?.instance === "numeric") {
      group.sort((a, b) => numericOrder(a.instance, b.instance));
    }
    out.push(...group);
  }
  return out;
}

function numericOrder(a: string | undefined, b: string | undefined): number {
  if (a === undefined || b === undefined) return a === undefined ? (b === undefined ? 0 : -1) : 1;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The `object.key=value` lines `corosync-objctl` would print for the view of `store`, in
 * its order (see the file comment).
 */
export function objdbLines(store: CmapStore, options: ObjdbOptions = {}): string[] {
  const root = objdbTree(store, options.sections === undefined ? {} : { sections: options.sections });
  const lines: string[] = [];
  const prefix = options.prefix ?? "";
  const wanted = (path: string) => prefix === "" || path === prefix || path.startsWith(prefix + ".");
  const walk = (node: ObjdbObject, parentPath: string | undefined): void => {
    for (const k of node.keys) {
      const path = parentPath === undefined ? k.name : `${parentPath}.${k.name}`;
      if (wanted(path)) lines.push(`${path}=${objdbValueText(k.value, options.showBinary ?? false)}`);
    }
    for (const c of node.children) {
      if (parentPath === undefined && options.skipInternalConfiguration && c.name === "internal_configuration") continue;
      walk(c, parentPath === undefined ? c.name : `${parentPath}.${c.name}`);
    }
    if (node.keys.length === 0 && node.children.length === 0 && parentPath !== undefined && wanted(parentPath)) {
      lines.push(parentPath);
    }
  };
  walk(root, undefined);
  return lines;
}

/** A value as objctl printed it: decimal, `%f`, raw string, `**binary**(9)` or escaped bytes. */
export function objdbValueText(value: CmapValue, showBinary = false): string {
  switch (value.type) {
    case CmapType.FLOAT:
    case CmapType.DOUBLE:
      return formatFixed(value.value);
    case CmapType.STRING:
      return value.value;
    case CmapType.BINARY:
      return showBinary ? escapeBinary(value.value) : `**binary**(${CONFDB_VALUETYPE_ANY})`;
    default:
      return String(value.value);
  }
}

/**
 * The cmap key behind an objdb key path. `objectInstance` gives the instance of each
 * repeated section on the path, outermost first (a single value for one section); `null`
 * says that object is not an instance (a plain object that only shares the section's name,
 * as `nodelist.node` holding key `0`: `instance` undefined in the tree). A numeric section
 * without a given instance means its first one, `0`; a named section needs its instance
 * (`CmapError` `INVALID_PARAM` otherwise); surplus instances are refused too.
 *
 * `objdbKeyToCmapKey("totem.interface.mcastport")` → `totem.interface.0.mcastport`;
 * `objdbKeyToCmapKey("logging.logger_subsys.debug", "QUORUM")` →
 * `logging.logger_subsys.QUORUM.debug`;
 * `objdbKeyToCmapKey("totem.interface.member.memberaddr", [0, 2])` →
 * `totem.interface.0.member.2`.
 */
export function objdbKeyToCmapKey(
  path: string,
  objectInstance?: string | number | ReadonlyArray<string | number | null>,
  sections: readonly RepeatedSection[] = OBJDB_REPEATED_SECTIONS,
): string {
  const given: ReadonlyArray<string | number | null> =
    objectInstance === undefined ? [] : Array.isArray(objectInstance) ? objectInstance : [objectInstance as string | number];
  const instances = given.map((i) => (i === null ? null : String(i)));
  const parts = path.split(".");
  const key = parts.pop() as string;
  const out: string[] = [];
  const names: string[] = [];
  let lastSection: RepeatedSection | undefined;
  for (const name of parts) {
    names.push(name);
    out.push(name);
    lastSection = findSection(sections, names.join("."));
    if (lastSection === undefined) continue;
    const instance = takeInstance(lastSection, instances, path);
    if (instance === null) lastSection = undefined;
    else out.push(instance);
  }
  if (instances.length > 0) throw new CmapError("INVALID_PARAM", `${path}: more instances given than repeated sections`);
  if (lastSection?.leafKey !== undefined && key === lastSection.leafKey) return out.join(".");
  return [...out, key].join(".");
}

function takeInstance(section: RepeatedSection, instances: Array<string | null>, path: string): string | null {
  const given = instances.shift();
  if (given === null) return null;
  if (given === undefined) {
    if (section.instance === "numeric") return "0";
    throw new CmapError("INVALID_PARAM", `${path}: which ${section.path} is meant must be given`);
  }
  if (!instanceFits(section, given)) {
    throw new CmapError("INVALID_PARAM", `${path}: "${given}" is not an instance of ${section.path}`);
  }
  return given;
}

function findSection(sections: readonly RepeatedSection[], path: string): RepeatedSection | undefined {
  return sections.find((s) => s.path === path);
}

function instanceFits(section: RepeatedSection, component: string): boolean {
  return section.instance === "named" ? component !== "" && !component.includes(".") : /^[0-9]+$/.test(component);
}
