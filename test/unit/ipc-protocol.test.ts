/** The setup handshake encoders/decoders and the IPC name rule (libqb-ipc-spec.md §1.2). */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CONNECTION_RESPONSE_SIZE,
  IPC_PREFIX_ENV,
  decodeConnectionRequest,
  decodeConnectionResponse,
  encodeConnectionRequest,
  encodeConnectionResponse,
  headerOnlyResponse,
  ipcSocketName,
  readResponseHeader,
} from "../../src/runtime/ipc/protocol.js";

test("setup request: 24 bytes, id -1, size 24, max_msg_size @16", () => {
  const b = encodeConnectionRequest(1048576);
  assert.equal(b.byteLength, 24);
  assert.deepEqual([...b.subarray(0, 4)], [0xff, 0xff, 0xff, 0xff]);
  assert.equal(b[8], 24);
  assert.deepEqual(decodeConnectionRequest(b), { ok: true, maxMsgSize: 1048576 });
});

test("setup request faults", () => {
  const good = encodeConnectionRequest(65536);
  assert.deepEqual(decodeConnectionRequest(good.subarray(0, 20)), { ok: false, fault: "short" });
  const badId = good.slice();
  badId[0] = 0;
  assert.deepEqual(decodeConnectionRequest(badId), { ok: false, fault: "bad_id" });
  const badSize = good.slice();
  badSize[8] = 25;
  assert.deepEqual(decodeConnectionRequest(badSize), { ok: false, fault: "bad_size" });
  assert.deepEqual(decodeConnectionRequest(encodeConnectionRequest(0)), { ok: false, fault: "bad_max_msg_size" });
  assert.deepEqual(decodeConnectionRequest(encodeConnectionRequest(0xffffffff)), { ok: false, fault: "bad_max_msg_size" });
});

test("setup reply: 12328 bytes, names at 40/4136/8232, round trip", () => {
  const r = {
    error: 0,
    connectionType: 1,
    maxMsgSize: 1048576,
    connection: 42n,
    request: "/dev/shm/qb-1-2-3-abcdef/qb-request-cmap",
    response: "/dev/shm/qb-1-2-3-abcdef/qb-response-cmap",
    event: "/dev/shm/qb-1-2-3-abcdef/qb-event-cmap",
  };
  const b = encodeConnectionResponse(r);
  assert.equal(b.byteLength, CONNECTION_RESPONSE_SIZE);
  assert.equal(new TextDecoder().decode(b.subarray(40, 40 + r.request.length)), r.request);
  assert.equal(new TextDecoder().decode(b.subarray(4136, 4136 + r.response.length)), r.response);
  assert.equal(new TextDecoder().decode(b.subarray(8232, 8232 + r.event.length)), r.event);
  assert.deepEqual(decodeConnectionResponse(b), r);
  const refused = decodeConnectionResponse(encodeConnectionResponse({ ...r, error: -13 }));
  assert.equal(refused.error, -13);
  assert.equal(refused.request, "");
});

test("header-only response {id 0, size 24, error}", () => {
  assert.deepEqual(readResponseHeader(headerOnlyResponse(0, 7)), { id: 0, size: 24, error: 7 });
});

test(`socket names: plain, or <prefix>-<name> (${IPC_PREFIX_ENV})`, () => {
  assert.equal(ipcSocketName("cmap", ""), "cmap");
  assert.equal(ipcSocketName("cmap", "node2"), "node2-cmap");
  assert.throws(() => ipcSocketName("cmap", "bad/prefix"), RangeError);
  assert.throws(() => ipcSocketName("cmap", "x".repeat(49)), RangeError);
  const saved = process.env[IPC_PREFIX_ENV];
  process.env[IPC_PREFIX_ENV] = "envp";
  try {
    assert.equal(ipcSocketName("cpg"), "envp-cpg");
  } finally {
    if (saved === undefined) delete process.env[IPC_PREFIX_ENV];
    else process.env[IPC_PREFIX_ENV] = saved;
  }
});
