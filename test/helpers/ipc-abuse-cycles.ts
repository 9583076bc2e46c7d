/**
 * Child process for the leak test (run with --expose-gc): an in-process server and client;
 * CYCLES times: connect, start a request, close before its response. Prints JSON with the
 * fd count, our shm directory count and heapUsed before and after (each after GC).
 * usage: node --expose-gc ipc-abuse-cycles.js PREFIX CYCLES
 */
import { readdirSync } from "node:fs";
import { IpcServer } from "../../src/runtime/ipc/server.js";
import { IpcClientConnection } from "../../src/client/ipc/connection.js";
import { echoRequest, echoService, openFdCount } from "./ipc-echo.js";

const prefix = process.argv[2]!;
const cycles = Number(process.argv[3] ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const server = new IpcServer({ prefix, services: { echo: echoService() } });
await server.start();

const shmDirs = (): number => readdirSync("/dev/shm").filter((n) => n.startsWith(`qb-${process.pid}-`)).length;

async function settle(): Promise<void> {
  for (let i = 0; i < 200 && server.connections().length > 0; i++) await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc!();
  }
}

async function cycle(i: number): Promise<void> {
  const c = await IpcClientConnection.connect("echo", { prefix });
  const pending = c.request(echoRequest(i % 3 === 0 ? 0 : 3, new Uint8Array(i % 200))).catch(() => undefined);
  if (i % 2 === 0) await new Promise((r) => setImmediate(r));
  await c.close();
  await pending;
}

for (let i = 0; i < 300; i++) await cycle(i);
await settle();
const before = { fds: openFdCount(), dirs: shmDirs(), heap: process.memoryUsage().heapUsed };
const t0 = performance.now();
for (let i = 0; i < cycles; i++) await cycle(i);
const ms = performance.now() - t0;
await settle();
const afterState = { fds: openFdCount(), dirs: shmDirs(), heap: process.memoryUsage().heapUsed };
const stats = server.stats();
await server.stop();
console.log(JSON.stringify({ before, after: afterState, ms, active: stats.active, closed: stats.closed, protocolErrors: stats.protocolErrors }));
