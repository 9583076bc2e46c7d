/**
 * Regressions for bugs found in src/core/pg/totempg.ts while writing its tests (each test
 * failed before the fix).
 *
 * Known and left alone (corosync has it too, and it cannot happen through the SRP, which
 * delivers a sender's packets without gaps): fragment ids restart at 1 per appended iovec, so
 * losing the middle one of packets `frag 1 cont 0`, `frag 1 cont 1`, `frag 0 cont 1` would
 * splice two messages into one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MESSAGE_SIZE_MAX } from "../../src/core/totem/constants.js";
import { bytes, deliverAll, pgNode, reconfigure } from "./totempg-fakes.js";

test(
  "an own message over MESSAGE_SIZE_MAX must not make a later cut message be lost and an earlier one re-sent",
  () => {
    // mcastMsg checks only queue room (up to ~4 MiB at netmtu 1500) but every receiver, the
    // sender included, drops a reassembly above MESSAGE_SIZE_MAX, and the sender's ownInFlight
    // entry for it is never shifted. The next multi-packet own message shifts the stale entry
    // instead of its own, so at a configuration change that cuts a third message the sender
    // re-sends the second (delivered twice) and not the third (lost, even to its sender).
    // Today: b and a deliver [second, second].
    const a = pgNode(1);
    const b = pgNode(2);
    // Fixed: the sender refuses the oversized message outright (RangeError), so nothing
    // stale is left in flight.
    assert.throws(() => a.pg.mcastGroup(0, "a", [bytes(2 * MESSAGE_SIZE_MAX, 1)]), RangeError);
    deliverAll(1, a.lower.send(), [a, b]);
    const second = bytes(5000, 2);
    a.pg.mcastGroup(0, "a", [second]);
    deliverAll(1, a.lower.send(), [a, b]);
    const third = bytes(5000, 3);
    a.pg.mcastGroup(0, "a", [third]);
    deliverAll(1, a.lower.send(2), [a, b]);
    reconfigure([a, b], [1, 2], [], []);
    deliverAll(1, a.lower.send(), [a, b]);
    assert.deepEqual(b.got.map((g) => g.body), [second, third]);
    assert.deepEqual(a.got.map((g) => g.body), [second, third]);
  },
);
