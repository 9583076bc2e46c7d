import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CmapType, type CmapValue } from "../../src/core/cmap/types.js";
import { CmapStore } from "../../src/core/cmap/store.js";
import { isCmapError } from "../../src/core/cmap/errors.js";
import { cmapKeyToObjdb, objdbKeyToCmapKey, objdbLines, objdbTree } from "../../src/core/cmap/objdb.js";

const str = (value: string): CmapValue => ({ type: CmapType.STRING, value });
const u32 = (value: number): CmapValue => ({ type: CmapType.UINT32, value });

/** A store as coroparse would load a small 3.x config, plus a few runtime keys. */
function realisticStore(): CmapStore {
  const s = new CmapStore();
  const entries: Array<[string, CmapValue]> = [
    ["totem.version", u32(2)],
    ["totem.cluster_name", str("demo")],
    ["totem.transport", str("udpu")],
    ["totem.interface.0.bindnetaddr", str("10.0.0.0")],
    ["totem.interface.0.mcastport", { type: CmapType.UINT16, value: 5405 }],
    ["totem.interface.1.bindnetaddr", str("10.1.0.0")],
    ["totem.interface.1.mcastport", { type: CmapType.UINT16, value: 5407 }],
    ["logging.to_syslog", str("yes")],
    ["logging.debug", str("off")],
    ["logging.logger_subsys.QUORUM.subsys", str("QUORUM")],
    ["logging.logger_subsys.QUORUM.debug", str("on")],
    ["logging.logger_subsys.CPG.debug", str("trace")], // no subsys key: the view adds it
    ["nodelist.node.0.ring0_addr", str("10.0.0.1")],
    ["nodelist.node.0.nodeid", u32(1)],
    ["nodelist.node.1.ring0_addr", str("10.0.0.2")],
    ["nodelist.node.1.nodeid", u32(2)],
    ["nodelist.node.10.ring0_addr", str("10.0.0.11")],
    ["nodelist.node.10.nodeid", u32(11)],
    ["nodelist.node.2.ring0_addr", str("10.0.0.3")],
    ["nodelist.node.2.nodeid", u32(3)],
    ["nodelist.local_node_pos", u32(0)],
    ["quorum.provider", str("corosync_votequorum")],
    ["runtime.members.1.ip", str("r(0) ip(10.0.0.1) ")],
    ["internal_configuration.service.0.name", str("corosync_cmap")],
  ];
  for (const [k, v] of entries) s.set(k, v);
  return s;
}

test("objdb lines for a realistic store, in objctl's order", () => {
  assert.deepEqual(objdbLines(realisticStore()), [
    "internal_configuration.service.0.name=corosync_cmap",
    "logging.debug=off",
    "logging.to_syslog=yes",
    "logging.logger_subsys.subsys=CPG",
    "logging.logger_subsys.debug=trace",
    "logging.logger_subsys.subsys=QUORUM",
    "logging.logger_subsys.debug=on",
    "nodelist.local_node_pos=0",
    "nodelist.node.nodeid=1",
    "nodelist.node.ring0_addr=10.0.0.1",
    "nodelist.node.nodeid=2",
    "nodelist.node.ring0_addr=10.0.0.2",
    "nodelist.node.nodeid=3",
    "nodelist.node.ring0_addr=10.0.0.3",
    "nodelist.node.nodeid=11",
    "nodelist.node.ring0_addr=10.0.0.11",
    "quorum.provider=corosync_votequorum",
    "runtime.members.1.ip=r(0) ip(10.0.0.1) ",
    "totem.cluster_name=demo",
    "totem.transport=udpu",
    "totem.version=2",
    "totem.interface.bindnetaddr=10.0.0.0",
    "totem.interface.mcastport=5405",
    "totem.interface.bindnetaddr=10.1.0.0",
    "totem.interface.mcastport=5407",
  ]);
});

test("prefix selects a subtree or a key; internal_configuration can be skipped", () => {
  const s = realisticStore();
  assert.deepEqual(objdbLines(s, { prefix: "totem.interface" }), [
    "totem.interface.bindnetaddr=10.0.0.0",
    "totem.interface.mcastport=5405",
    "totem.interface.bindnetaddr=10.1.0.0",
    "totem.interface.mcastport=5407",
  ]);
  assert.deepEqual(objdbLines(s, { prefix: "quorum.provider" }), ["quorum.provider=corosync_votequorum"]);
  assert.deepEqual(objdbLines(s, { prefix: "quorum.prov" }), []);
  assert.equal(objdbLines(s, { skipInternalConfiguration: true }).some((l) => l.startsWith("internal_configuration")), false);
});

test("objdb tree: repeated objects with instances, handles, cmap prefixes", () => {
  const root = objdbTree(realisticStore());
  assert.equal(root.handle, 0);
  const totem = root.children.find((c) => c.name === "totem")!;
  const ifaces = totem.children.filter((c) => c.name === "interface");
  assert.deepEqual(ifaces.map((i) => [i.path, i.instance, i.cmapPrefix]), [
    ["totem.interface", "0", "totem.interface.0."],
    ["totem.interface", "1", "totem.interface.1."],
  ]);
  assert.deepEqual(ifaces[0]!.keys.map((k) => `${k.name}:${k.cmapKey}`), [
    "bindnetaddr:totem.interface.0.bindnetaddr",
    "mcastport:totem.interface.0.mcastport",
  ]);
  const nodes = root.children.find((c) => c.name === "nodelist")!.children;
  assert.deepEqual(nodes.map((n) => n.instance), ["0", "1", "2", "10"]);
  const handles: number[] = [];
  const walk = (o: typeof root) => {
    handles.push(o.handle);
    o.children.forEach(walk);
  };
  walk(root);
  assert.deepEqual(handles, handles.map((_, i) => i));
  const cpg = root.children.find((c) => c.name === "logging")!.children.find((c) => c.instance === "CPG")!;
  assert.deepEqual(cpg.keys[0], { name: "subsys", value: str("CPG"), cmapKey: "logging.logger_subsys.CPG.subsys", synthesized: true });
});

test("interface members become member objects with memberaddr", () => {
  const s = new CmapStore();
  s.set("totem.interface.0.member.0", str("10.0.0.1"));
  s.set("totem.interface.0.member.1", str("10.0.0.2"));
  assert.deepEqual(objdbLines(s), ["totem.interface.member.memberaddr=10.0.0.1", "totem.interface.member.memberaddr=10.0.0.2"]);
  assert.equal(objdbKeyToCmapKey("totem.interface.member.memberaddr", [0, 1]), "totem.interface.0.member.1");
});

test("values print as objctl did: %f, binary as **binary**(9) or escaped", () => {
  const s = new CmapStore();
  s.set("a.flt", { type: CmapType.FLOAT, value: 1.5 });
  s.set("a.bin", { type: CmapType.BINARY, value: new Uint8Array([0x41, 0x01]) });
  s.set("a.i64", { type: CmapType.INT64, value: -3n });
  assert.deepEqual(objdbLines(s), ["a.bin=**binary**(9)", "a.flt=1.500000", "a.i64=-3"]);
  assert.deepEqual(objdbLines(s, { showBinary: true })[0], "a.bin=A\\x01");
});

test("keys that only look repeated stay plain", () => {
  const s = new CmapStore();
  s.set("nodelist.node.0", str("odd")); // no key after the index
  s.set("totem.interface.x.ttl", str("1")); // not a numeric instance
  assert.deepEqual(objdbLines(s), ["nodelist.node.0=odd", "totem.interface.x.ttl=1"]);
});

test("objdbKeyToCmapKey reverses the mapping", () => {
  assert.equal(objdbKeyToCmapKey("totem.interface.mcastport"), "totem.interface.0.mcastport");
  assert.equal(objdbKeyToCmapKey("totem.interface.mcastport", 1), "totem.interface.1.mcastport");
  assert.equal(objdbKeyToCmapKey("logging.logger_subsys.debug", "QUORUM"), "logging.logger_subsys.QUORUM.debug");
  assert.equal(objdbKeyToCmapKey("totem.token"), "totem.token");
  assert.equal(objdbKeyToCmapKey("nodelist.node.ring0_addr", [2]), "nodelist.node.2.ring0_addr");
  assert.equal(objdbKeyToCmapKey("nodelist.node.0", [null]), "nodelist.node.0");
  assert.throws(() => objdbKeyToCmapKey("logging.logger_subsys.debug"), (e: unknown) => isCmapError(e, "INVALID_PARAM"));
  assert.throws(() => objdbKeyToCmapKey("totem.interface.ttl", "x"), (e: unknown) => isCmapError(e, "INVALID_PARAM"));
  assert.throws(() => objdbKeyToCmapKey("totem.token", 0), (e: unknown) => isCmapError(e, "INVALID_PARAM"));
});

test("property: every key of the view maps back to its cmap key", () => {
  const comp = fc.oneof(
    fc.constantFrom("totem", "interface", "nodelist", "node", "logging", "logger_subsys", "member", "runtime", "QUORUM"),
    fc.nat({ max: 12 }).map(String),
    fc.string({ unit: fc.constantFrom(..."abcxyz_-".split("")), minLength: 1, maxLength: 4 }),
  );
  const keyArb = fc.array(comp, { minLength: 2, maxLength: 6 }).map((cs) => cs.join(".")).filter((k) => k.length >= 3 && k.length <= 255);
  fc.assert(
    fc.property(fc.uniqueArray(keyArb, { maxLength: 20 }), (keys) => {
      const s = new CmapStore();
      for (const k of keys) s.set(k, str("v"));
      const root = objdbTree(s);
      const stack: Array<{ node: typeof root; instances: Array<string | null> }> = [{ node: root, instances: [] }];
      let seen = 0;
      while (stack.length > 0) {
        const { node, instances } = stack.pop()!;
        for (const k of node.keys) {
          if (k.synthesized) continue;
          seen++;
          const path = node.path === "" ? k.name : `${node.path}.${k.name}`;
          assert.equal(objdbKeyToCmapKey(path, instances), k.cmapKey);
          assert.equal(cmapKeyToObjdb(k.cmapKey).path, path);
        }
        for (const c of node.children) {
          const repeated = ["totem.interface", "totem.interface.member", "nodelist.node", "logging.logger_subsys", "logging.logging_daemon"].includes(c.path);
          stack.push({ node: c, instances: repeated ? [...instances, c.instance ?? null] : instances });
        }
      }
      assert.equal(seen, keys.length);
    }),
  );
});
