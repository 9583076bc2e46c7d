/**
 * Golden knet datagrams captured from real corosync 3.1.7 + libknet 1.25
 * (../shared/testdata/corosync-3.1.7-knet, README there): the in-repo subset
 * (test/fixtures/knet/knet-frames.jsonl, rebuilt by test/golden/build-knet-fixture.mjs,
 * with the captures' throwaway authkeys) and the full captures when present.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { REPO_ROOT, hexToBytes } from "./frames.js";

export const KNET_FIXTURE_DIR = join(REPO_ROOT, "test", "fixtures", "knet");
export const KNET_CAPTURES = ["plain.jsonl", "crypto.jsonl", "fake-node3.jsonl"] as const;
export type KnetCaptureName = (typeof KNET_CAPTURES)[number];

/** One captured datagram and the fields the capture tool decoded from it. */
export interface KnetGolden {
  capture: KnetCaptureName;
  line: number;
  t: number;
  src: string;
  dst: string;
  /** The UDP payload as sent. */
  wire: Uint8Array;
  /** The plaintext knet frame (decrypted by the capture tool for crypto captures). */
  plain: Uint8Array;
  crypto: boolean;
  kver: number;
  ktype: "data" | "ping" | "pong" | "pmtud" | "pmtud_reply";
  khost: number;
  kpad: string;
  seq?: number;
  compress?: number;
  dpad?: number;
  bcast?: number;
  frag_num?: number;
  frag_seq?: number;
  channel?: number;
  user_len?: number;
  totem?: { version: number; type: string; encapsulated: number; nodeid: number; target_nodeid: number };
  link?: number;
  time_sec?: number;
  time_nsec?: number;
  ping_seq?: number;
  timed?: number;
  pmtud_size?: number;
  fill_len?: number;
}

type Raw = Omit<KnetGolden, "capture" | "line" | "wire" | "plain" | "crypto"> & { capture?: KnetCaptureName; hex: string; plain_hex?: string };

/** Parse a jsonl file of captured knet datagrams. */
export function loadKnetFrames(file: string, capture?: KnetCaptureName): KnetGolden[] {
  const out: KnetGolden[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (!text.trim()) return;
      const { hex, plain_hex, capture: c, ...rest } = JSON.parse(text) as Raw;
      const wire = hexToBytes(hex);
      const name = c ?? capture;
      if (name === undefined) throw new Error(`${file}:${i + 1}: no capture name`);
      out.push({ ...rest, capture: name, line: i + 1, wire, plain: plain_hex === undefined ? wire : hexToBytes(plain_hex), crypto: plain_hex !== undefined });
    });
  return out;
}

/** The in-repo subset; a missing fixture is a broken checkout, so this throws. */
export function loadKnetFixture(): KnetGolden[] {
  return loadKnetFrames(join(KNET_FIXTURE_DIR, "knet-frames.jsonl"));
}

/** The authkey a capture was encrypted with (the plain capture has none). */
export function knetCaptureKey(capture: KnetCaptureName): Uint8Array | undefined {
  if (capture === "plain.jsonl") return undefined;
  return readFileSync(join(KNET_FIXTURE_DIR, capture === "crypto.jsonl" ? "crypto.authkey" : "fake-node3.authkey"));
}

/** The directory of the full knet captures, or undefined (e.g. on CI). */
export function sharedKnetCaptureDir(): string | undefined {
  const tried: string[] = [];
  for (let dir = REPO_ROOT; ; dir = dirname(dir)) {
    tried.push(join(dir, "..", "shared", "testdata", "corosync-3.1.7-knet"));
    if (dirname(dir) === dir) break;
  }
  tried.push("/work/shared/testdata/corosync-3.1.7-knet");
  return tried.find((d) => KNET_CAPTURES.every((n) => existsSync(join(d, n))));
}
