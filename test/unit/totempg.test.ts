/**
 * totempg (src/core/pg/totempg.ts, totem-spec §5): packing, fragmentation, reassembly, the
 * continuation-mismatch rule, the all-or-nothing drop at a regular configuration change with
 * the sender's re-send, and the assembly bound. The SRP below is a fake that records the
 * packets it is given; "sending" hands them, in order, to the receivers' `deliver`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MESSAGE_SIZE_MAX } from "../../src/core/totem/constants.js";
import { decodePgPacket, encodePgPacket } from "../../src/wire/pg/packet.js";
import { encodeGroupMessage } from "../../src/wire/pg/groups.js";
import { bytes, deliverAll, NET_MTU, pgNode, reconfigure, ring } from "./totempg-fakes.js";

function shape(packets: readonly Uint8Array[]): string[] {
  return packets.map((p) => {
    const d = decodePgPacket(p);
    return `frag ${d.fragmented} cont ${d.continuation} [${d.pieces.map((x) => x.byteLength).join(",")}]`;
  });
}

// ------------------------------------------------------------------ packing

test("small messages wait in the packing buffer and leave as one packet at the token", () => {
  const a = pgNode(1);
  const b = pgNode(2);
  const bodies = [bytes(100, 1), bytes(10, 2), bytes(0, 3)];
  for (const body of bodies) assert.ok(a.pg.mcastGroup(0, "a", [body]));
  assert.equal(a.lower.queue.length, 0, "nothing is queued before the token");
  assert.equal(a.pg.packedCount, 3);
  assert.equal(a.lower.holdCancels, 3, "every send attempt signals the SRP (hold cancel)");
  a.pg.tokenReceived();
  const packets = a.lower.send();
  assert.deepEqual(shape(packets), ["frag 0 cont 0 [105,15,5]"]);
  const d = decodePgPacket(packets[0]!);
  bodies.forEach((body, i) => assert.deepEqual(d.pieces[i], encodeGroupMessage("a", body)));
  a.pg.tokenReceived();
  assert.equal(a.lower.queue.length, 0, "an empty buffer sends nothing");
  deliverAll(1, packets, [a, b]);
  for (const n of [a, b]) {
    assert.deepEqual(n.got.map((g) => [g.from, g.group]), [[1, "a"], [1, "a"], [1, "a"]]);
    n.got.forEach((g, i) => assert.deepEqual(g.body, bodies[i]));
  }
  assert.equal(b.pg.stats.rx_messages, 3);
});

test("the buffer is not flushed while the SRP queue is full", () => {
  const a = pgNode(1, NET_MTU, 1);
  assert.ok(a.pg.mcastGroup(0, "a", [bytes(10, 1)]));
  a.lower.queue.push({ payload: new Uint8Array(8), guarantee: 0 }); // the only slot is taken
  a.pg.tokenReceived();
  assert.equal(a.pg.packedCount, 1);
  a.lower.send();
  a.pg.tokenReceived();
  assert.equal(a.pg.packedCount, 0);
  assert.equal(a.lower.queue.length, 1);
});

test("a message that does not fit the buffer's rest is split at once; the rest waits (spec §5.2 quirk)", () => {
  // Each message is three iovecs: group count+length (4), name (1), body (1000).
  const a = pgNode(1);
  const b = pgNode(2);
  const m1 = bytes(1000, 1);
  const m2 = bytes(1000, 2);
  a.pg.mcastGroup(0, "a", [m1]);
  a.pg.mcastGroup(0, "a", [m2]);
  // m2's body did not fit after m1 and m2's first two iovecs (1010 bytes buffered): the
  // buffer was filled to 1402 − 2·2 = 1398 bytes of data, i.e. m2's first 388 body bytes,
  // and sent as a packet of exactly netmtu − 90 = 1410 bytes, ending in a fragment.
  assert.deepEqual(shape(a.lower.queue.map((q) => q.payload)), ["frag 1 cont 0 [1005,393]"]);
  assert.equal(a.lower.queue[0]!.payload.byteLength, NET_MTU);
  // The remaining 612 bytes are shorter than a packet: they wait for the token.
  a.pg.tokenReceived();
  const packets = a.lower.send();
  assert.deepEqual(shape(packets), ["frag 1 cont 0 [1005,393]", "frag 0 cont 1 [612]"]);
  for (const p of packets) assert.ok(p.byteLength <= NET_MTU);
  deliverAll(1, packets, [a, b]);
  assert.deepEqual(b.got.map((g) => g.body), [m1, m2]);
  assert.deepEqual(a.got.map((g) => g.body), [m1, m2]);
});

test("a 5000-byte message: fragment ids 1, 2, 3 then 0, each packet continuing the previous; ids restart per message", () => {
  const a = pgNode(1);
  const b = pgNode(2);
  const m = [bytes(5000, 1), bytes(5000, 2)];
  a.pg.mcastGroup(0, "a", [m[0]!]);
  a.pg.mcastGroup(0, "a", [m[1]!]);
  const packets = a.lower.send();
  const one = ["frag 1 cont 0 [1400]", "frag 2 cont 1 [1400]", "frag 3 cont 2 [1400]", "frag 0 cont 3 [805]"];
  assert.deepEqual(shape(packets), [...one, ...one], "a long iovec's remainder goes out at once, not via the buffer");
  assert.equal(a.pg.packedCount, 0);
  deliverAll(1, packets, [a, b]);
  assert.deepEqual(b.got.map((g) => g.body), m);
});

test("a 1 MiB message: 749 packets, fragment ids wrap past 255 skipping 0, reassembled exactly everywhere", () => {
  const a = pgNode(1);
  const b = pgNode(2);
  const body = bytes(MESSAGE_SIZE_MAX - 5, 7); // with the group header: exactly MESSAGE_SIZE_MAX
  assert.ok(a.pg.mcastGroup(0, "a", [body]));
  const packets = a.lower.send();
  assert.equal(packets.length, 749);
  const ids = packets.map((p) => decodePgPacket(p));
  for (let i = 0; i < ids.length; i++) {
    const want = i === ids.length - 1 ? 0 : (i % 255) + 1;
    assert.equal(ids[i]!.fragmented, want, `packet ${i}`);
    assert.equal(ids[i]!.continuation, i === 0 ? 0 : ids[i - 1]!.fragmented);
    assert.ok(packets[i]!.byteLength <= NET_MTU);
  }
  deliverAll(1, packets, [a, b]);
  for (const n of [a, b]) {
    assert.equal(n.got.length, 1);
    assert.equal(n.got[0]!.body.byteLength, body.byteLength);
    assert.deepEqual(n.got[0]!.body, body);
    assert.equal(n.pg.stats.rx_thrown_away, 0);
  }
});

test("back-pressure: a message is refused whole when the SRP queue lacks room for its packets", () => {
  // byte_count_send_ok: ⌊bytes / (netmtu − 24)⌋ + 1 packets must fit.
  const a = pgNode(1, NET_MTU, 15);
  const big = bytes(20000, 1); // 20005 bytes → 15 slots needed
  assert.ok(a.pg.sendOk(20005));
  a.lower.queue.push({ payload: new Uint8Array(8), guarantee: 0 });
  assert.equal(a.pg.mcastGroup(0, "a", [big]), false);
  assert.equal(a.lower.queue.length, 1, "nothing of the refused message was queued");
  assert.equal(a.pg.packedCount, 0);
  assert.equal(a.lower.holdCancels, 1, "the refused attempt still signalled the SRP");
  assert.equal(a.pg.stats.tx_messages, 0);
  a.lower.send();
  assert.ok(a.pg.mcastGroup(0, "a", [big]));
  assert.equal(a.lower.queue.length, 15);
});

// ------------------------------------------------------------------ receiving rules

const X = encodeGroupMessage("a", bytes(1500, 9)); // a message sent in pieces
const Y = encodeGroupMessage("a", bytes(30, 10));
const Z = encodeGroupMessage("a", bytes(40, 11));
const W = encodeGroupMessage("a", bytes(50, 12));
const bodyOf = (m: Uint8Array): Uint8Array => m.subarray(5);

test("continuation mismatch: only the unassemblable first piece is discarded, the whole pieces after it are delivered", () => {
  const b = pgNode(2);
  b.pg.deliver(7, encodePgPacket(1, 0, [X.subarray(0, 600)]), false);
  // The packet with fragment id 2 (X's middle) is lost.
  b.pg.deliver(7, encodePgPacket(0, 2, [X.subarray(1200), Y, Z]), false);
  assert.deepEqual(b.got.map((g) => g.body), [bodyOf(Y), bodyOf(Z)], "corosync's throw-away mode would drop Y and Z too");
  assert.equal(b.pg.stats.rx_thrown_away, 1);
  b.pg.deliver(7, encodePgPacket(0, 0, [W]), false);
  assert.deepEqual(b.got.map((g) => g.body), [bodyOf(Y), bodyOf(Z), bodyOf(W)]);
  assert.equal(b.pg.stats.rx_thrown_away, 1);
});

test("a mismatched single fragment discards until the message ends, even if later ids chain", () => {
  const b = pgNode(2);
  const parts = [X.subarray(0, 300), X.subarray(300, 600), X.subarray(600, 900), X.subarray(900, 1200), X.subarray(1200)];
  b.pg.deliver(7, encodePgPacket(1, 0, [parts[0]!]), false);
  // id 2 lost
  b.pg.deliver(7, encodePgPacket(3, 2, [parts[2]!]), false);
  b.pg.deliver(7, encodePgPacket(4, 3, [parts[3]!]), false);
  assert.equal(b.got.length, 0);
  b.pg.deliver(7, encodePgPacket(0, 4, [parts[4]!, Y]), false);
  assert.deepEqual(b.got.map((g) => g.body), [bodyOf(Y)]);
  assert.equal(b.pg.stats.rx_thrown_away, 1, "one message lost, counted once");
});

test("a fresh packet (continuation 0) while a message is half assembled drops the half", () => {
  const b = pgNode(2);
  b.pg.deliver(7, encodePgPacket(1, 0, [X.subarray(0, 700)]), false);
  b.pg.deliver(7, encodePgPacket(0, 0, [Y]), false);
  assert.deepEqual(b.got.map((g) => g.body), [bodyOf(Y)]);
  assert.equal(b.pg.stats.rx_thrown_away, 1);
  // Senders are independent: a half message of 8 does not disturb 7.
  b.pg.deliver(8, encodePgPacket(1, 0, [X.subarray(0, 700)]), false);
  b.pg.deliver(7, encodePgPacket(1, 0, [X.subarray(0, 700)]), false);
  b.pg.deliver(7, encodePgPacket(0, 1, [X.subarray(700)]), false);
  b.pg.deliver(8, encodePgPacket(0, 1, [X.subarray(700)]), false);
  assert.deepEqual(b.got.map((g) => [g.from, g.body.byteLength]), [[7, 30], [7, 1500], [8, 1500]]);
});

test("packets that do not add up and messages whose group header does not decode are dropped and counted", () => {
  const b = pgNode(2);
  const good = encodePgPacket(0, 0, [Y]);
  const bad = good.slice(0, good.byteLength - 1);
  b.pg.deliver(7, bad, false);
  assert.equal(b.pg.stats.rx_bad_packets, 1);
  b.pg.deliver(7, encodePgPacket(0, 0, [Uint8Array.of(5, 0), Y]), false); // group_count 5, no table
  assert.equal(b.pg.stats.rx_bad_messages, 1);
  assert.deepEqual(b.got.map((g) => g.body), [bodyOf(Y)]);
});

test("assembly bound: the sender refuses a message above MESSAGE_SIZE_MAX; one of exactly MESSAGE_SIZE_MAX passes", () => {
  const a = pgNode(1);
  const b = pgNode(2);
  assert.throws(() => a.pg.mcastGroup(0, "a", [bytes(2 * MESSAGE_SIZE_MAX, 3)]), RangeError);
  // 5 bytes of group header ("a") + body = exactly MESSAGE_SIZE_MAX.
  assert.ok(a.pg.mcastGroup(0, "a", [bytes(MESSAGE_SIZE_MAX - 5, 3)]));
  assert.ok(a.pg.mcastGroup(0, "a", [bytes(100, 4)]));
  a.pg.tokenReceived();
  deliverAll(1, a.lower.send(), [b]);
  assert.deepEqual(b.got.map((g) => g.body.byteLength), [MESSAGE_SIZE_MAX - 5, 100]);
});

test("assembly bound: a hostile sender's endless fragment chain is dropped and counted; its next whole message flows", () => {
  const b = pgNode(2);
  const chunk = new Uint8Array(1400);
  b.pg.deliver(3, encodePgPacket(1, 0, [chunk]), false);
  for (let i = 0; i * 1400 < MESSAGE_SIZE_MAX + 10_000; i++) b.pg.deliver(3, encodePgPacket(1, 1, [chunk]), false);
  b.pg.deliver(3, encodePgPacket(0, 1, [chunk, Y]), false);
  assert.deepEqual(b.got.map((g) => g.body), [bodyOf(Y)]);
  assert.equal(b.pg.stats.rx_thrown_away, 1);
});

test("a configuration change's left list discards the half assembly of a node that left", () => {
  const b = pgNode(2);
  b.pg.deliver(3, encodePgPacket(1, 0, [X.subarray(0, 700)]), false);
  // Node 3 restarted: it left the old ring and is a member again of the new one.
  b.pg.confchg({ type: "transitional", members: [2], left: [3], joined: [], ringId: ring(2, 4n) });
  b.pg.confchg({ type: "regular", members: [2, 3], left: [], joined: [3], ringId: ring(2, 4n) });
  // Were it kept, this continuation would complete X.
  b.pg.deliver(3, encodePgPacket(0, 1, [X.subarray(700), Y]), false);
  assert.deepEqual(b.got.map((g) => g.body), [bodyOf(Y)]);
  assert.equal(b.confchgs.length, 2);
});

// ------------------------------------------------------------------ configuration changes

test("all-or-nothing at the regular configuration: receivers drop the cut message, the sender re-sends it whole", () => {
  const a = pgNode(1);
  const b = pgNode(2);
  const c = pgNode(3); // joins with the new configuration
  const done = bytes(3000, 1); // fully delivered before the change: never re-sent
  const cut = bytes(5000, 2); // 4 packets, 2 go out in the old ring
  const after = bytes(2000, 3); // queued whole behind it
  const small = bytes(20, 4); // in the packing buffer at the change
  a.pg.mcastGroup(0, "a", [done]);
  a.pg.tokenReceived();
  deliverAll(1, a.lower.send(), [a, b]);
  a.pg.mcastGroup(0, "a", [cut]);
  a.pg.mcastGroup(0, "a", [after]);
  a.pg.mcastGroup(0, "a", [small]);
  deliverAll(1, a.lower.send(2), [a, b]);
  assert.deepEqual(b.got.map((g) => g.body), [done], "the cut message is not delivered in the old configuration");
  reconfigure([a, b, c], [1, 2, 3], [], [3]);
  assert.equal(b.pg.stats.rx_dropped_at_confchg, 1);
  assert.equal(a.pg.stats.rx_dropped_at_confchg, 1);
  assert.equal(a.pg.stats.tx_resent, 1);
  assert.equal(a.pg.packedCount, 0, "the buffer was re-packed too");
  assert.ok(a.lower.queue.every((q) => q.opts?.queue === "normal" && q.opts.force === true), "re-packed traffic bypasses the sync-time queue");
  assert.equal(decodePgPacket(a.lower.queue[0]!.payload).continuation, 0, "nothing in the new ring continues an old message");
  deliverAll(1, a.lower.send(), [a, b, c]);
  assert.deepEqual(a.got.map((g) => g.body), [done, cut, after, small]);
  assert.deepEqual(b.got.map((g) => g.body), [done, cut, after, small]);
  assert.deepEqual(c.got.map((g) => g.body), [cut, after, small]);
  for (const n of [a, b, c]) assert.equal(n.pg.stats.rx_thrown_away, 0);
});

test("a sender whose cut message had all its packets sent still re-sends it (its own copy was incomplete)", () => {
  const a = pgNode(1);
  const b = pgNode(2);
  const cut = bytes(5000, 5);
  a.pg.mcastGroup(0, "a", [cut]);
  const packets = a.lower.send();
  // Only the first two were ordered before the ring broke; the others are lost with it.
  deliverAll(1, packets.slice(0, 2), [a, b]);
  reconfigure([a, b], [1, 2], [], []);
  assert.equal(a.pg.stats.tx_resent, 1);
  deliverAll(1, a.lower.send(), [a, b]);
  assert.deepEqual(a.got.map((g) => g.body), [cut]);
  assert.deepEqual(b.got.map((g) => g.body), [cut]);
});

test("a sync-time message cut by a configuration change is dropped everywhere and not re-sent (worthless in the next ring)", () => {
  const a = pgNode(1);
  const b = pgNode(2);
  for (const n of [a, b]) n.pg.waitingTransAck(true); // in the sync phase of the ring
  const cut = bytes(5000, 6);
  a.pg.mcastGroup(0, "sync", [cut]);
  deliverAll(1, a.lower.send(2), [a, b]);
  reconfigure([a, b], [1, 2], [], []);
  assert.equal(a.pg.stats.tx_resent, 0);
  assert.equal(b.pg.stats.rx_dropped_at_confchg, 1);
  deliverAll(1, a.lower.send(), [a, b]);
  assert.deepEqual(a.got, []);
  assert.deepEqual(b.got, []);
});

test("without a cut message a configuration change re-sends nothing and keeps the queue's order", () => {
  const a = pgNode(1);
  const b = pgNode(2);
  const m = [bytes(5000, 1), bytes(30, 2), bytes(40, 3)];
  for (const x of m) a.pg.mcastGroup(0, "a", [x]);
  reconfigure([a, b], [1, 2], [], []);
  assert.equal(a.pg.stats.tx_resent, 0);
  assert.equal(a.pg.stats.rx_dropped_at_confchg, 0);
  deliverAll(1, a.lower.send(), [a, b]);
  assert.deepEqual(b.got.map((g) => g.body), m);
  assert.deepEqual(a.got.map((g) => g.body), m);
});

test("transAck sends what sync left in the buffer, then releases the SRP", () => {
  const a = pgNode(1);
  a.pg.mcastGroup(0, "sync", [bytes(10, 1)]);
  a.pg.transAck();
  assert.equal(a.lower.queue.length, 1);
  assert.equal(a.lower.transAcks, 1);
  const b = pgNode(2);
  deliverAll(1, a.lower.send(), [b]);
  assert.deepEqual(b.got.map((g) => g.group), ["sync"]);
});
