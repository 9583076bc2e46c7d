/**
 * Golden frames captured from real corosync 3.1.7 (udpu, unencrypted): the in-repo fixture
 * (test/fixtures/golden/udpu-frames.jsonl, always present; rebuilt by
 * test/golden/build-udpu-fixture.mjs) and the full shared captures
 * (<repo>/../shared/testdata/corosync-3.1.7-udpu, present on development machines only).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: this file compiles to <root>/dist/test/golden/frames.js. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export const FIXTURE_FILE = join(REPO_ROOT, "test", "fixtures", "golden", "udpu-frames.jsonl");

export const CAPTURE_NAMES = ["membership.jsonl", "cpg-traffic.jsonl"] as const;

/** The `type` names the capture tool writes, indexed by Totem message type. */
export const TYPE_NAMES = [
  "orf_token",
  "mcast",
  "memb_merge_detect",
  "memb_join",
  "memb_commit_token",
  "token_hold_cancel",
] as const;

/** One captured datagram (a jsonl line) with its bytes. */
export interface GoldenFrame {
  source: string;
  line: number;
  t: number;
  src: string;
  dst: string;
  len: number;
  type?: string;
  version?: number;
  encapsulated?: number;
  nodeid?: number;
  bytes: Uint8Array;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function loadFrames(file: string): GoldenFrame[] {
  const frames: GoldenFrame[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((text, i) => {
      if (!text.trim()) return;
      const rec = JSON.parse(text) as Omit<GoldenFrame, "bytes" | "source" | "line"> & { hex: string; capture?: string };
      const { hex, capture, ...rest } = rec;
      frames.push({ ...rest, source: capture ? `${file}(${capture})` : file, line: i + 1, bytes: hexToBytes(hex) });
    });
  return frames;
}

/** The in-repo fixture; a missing fixture is a broken checkout, so this throws. */
export function loadFixtureFrames(): GoldenFrame[] {
  if (!existsSync(FIXTURE_FILE)) {
    throw new Error(`golden fixture missing: ${FIXTURE_FILE} (rebuild with node test/golden/build-udpu-fixture.mjs)`);
  }
  return loadFrames(FIXTURE_FILE);
}

/**
 * Where the full shared captures are: `../shared/testdata` next to the repository (the
 * /work/main layout), then any ancestor's `shared/testdata` (a worktree under
 * /work/wt/<x>), then /work/shared/testdata. `undefined` when absent (e.g. on CI).
 */
export function sharedCaptureDir(): string | undefined {
  const tried = new Set<string>();
  for (let dir = REPO_ROOT; ; dir = dirname(dir)) {
    tried.add(join(dir, "..", "shared", "testdata", "corosync-3.1.7-udpu"));
    if (dirname(dir) === dir) break;
  }
  tried.add("/work/shared/testdata/corosync-3.1.7-udpu");
  for (const d of tried) if (CAPTURE_NAMES.every((n) => existsSync(join(d, n)))) return d;
  return undefined;
}

export function loadSharedCaptures(dir: string): Map<string, GoldenFrame[]> {
  return new Map(CAPTURE_NAMES.map((n) => [n, loadFrames(join(dir, n))]));
}
