/**
 * The typed face of the `corosync_native` N-API addon (native/qbshm.c): shared-memory
 * mappings, process-shared semaphores inside them and SO_PEERCRED. It is the only native code
 * in the project (README decision 4) and is built by `npm ci` (binding.gyp, `gypfile: true`).
 *
 * Loading is lazy: importing this module costs nothing; the first call to `nativeAddon()`
 * loads `build/Release/corosync_native.node` and throws a clear error when it is missing.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Peer credentials of a connected unix socket, as the kernel recorded them at connect(). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** Options that make `mapFile` create the file instead of opening an existing one. */
export interface CreateFileOptions {
  /** Permission bits (umask does not apply). Default 0o600. */
  mode?: number;
  /** Owner to give the new file (fchown); omit or -1 to keep ours. */
  uid?: number;
  gid?: number;
}

/** The addon's exports. Offsets are byte offsets into the ArrayBuffer. */
export interface NativeAddon {
  /**
   * Maps `length` bytes of the file at `path` (MAP_SHARED, read-write) into an external
   * ArrayBuffer. Without `create` the file must exist and be at least `length` bytes long
   * (error code ENXIO otherwise). With `create` it is created exclusively (EEXIST if present),
   * zero-filled, sized and space-reserved (posix_fallocate), then chowned.
   * The region is unmapped by `unmap()` or when the ArrayBuffer is garbage-collected.
   */
  mapFile(path: string, length: number, create?: CreateFileOptions): ArrayBuffer;
  /**
   * Detaches `ab` (every view over it becomes empty) and unmaps it; while a `semWaitAsync` on
   * it is still running the munmap waits for it. Returns true if `ab` was a live mapping.
   */
  unmap(ab: ArrayBuffer): boolean;
  /** glibc `sem_init` on the `sem_t` at `offset` (must be 8-byte aligned). Use pshared = 1. */
  semInit(ab: ArrayBuffer, offset: number, pshared: number, value: number): void;
  /**
   * Posts the semaphore (value + 1, wake one waiter). Safe on memory a hostile peer writes:
   * the futex operation is fixed, loops are bounded. False on overflow (SEM_VALUE_MAX).
   */
  semPost(ab: ArrayBuffer, offset: number): boolean;
  /** Takes one from the value if positive; false when it is zero. Never blocks. */
  semTryWait(ab: ArrayBuffer, offset: number): boolean;
  /** The current value (0..INT_MAX). */
  semGetValue(ab: ArrayBuffer, offset: number): number;
  /**
   * Waits up to `timeoutMs` (0..60000) for the semaphore without blocking the event loop:
   * the wait runs on a libuv thread-pool thread, which it occupies for as long as it waits.
   * Resolves true when it took one, false on timeout. Client side only: the server never waits
   * on a semaphore. Keep `timeoutMs` short (hundreds of ms) and loop, so that a pool thread is
   * not held long after the reason to wait is gone.
   */
  semWaitAsync(ab: ArrayBuffer, offset: number, timeoutMs: number): Promise<boolean>;
  /**
   * True once an access to this mapping faulted because its file was truncated (a peer owns
   * its ring files and can do that). The addon's SIGBUS guard then maps a zero page in place
   * of the vanished one, so the access completes instead of killing the process; the owner
   * must treat the ring as corrupt and close the connection.
   */
  poisoned(ab: ArrayBuffer): boolean;
  /** SO_PEERCRED of the unix socket `fd`. */
  getPeerCred(fd: number): PeerCred;
  /** sizeof(sem_t) and the page size, for layout checks. */
  readonly constants: { semSize: number; pageSize: number };
}

let cached: NativeAddon | undefined;

/** Where the addon is looked for: the package root's build/Release, found from this file. */
export function nativeAddonPath(): string {
  // This file is dist/src/runtime/ipc/native.js when compiled: four levels below the root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "build", "Release", "corosync_native.node");
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "build", "Release", "corosync_native.node");
}

/**
 * The loaded addon. Throws an Error with code `ERR_NATIVE_ADDON_MISSING` naming the path and
 * the command that builds it when the .node file is absent or fails to load.
 */
export function nativeAddon(): NativeAddon {
  if (cached) return cached;
  const path = nativeAddonPath();
  try {
    const require = createRequire(import.meta.url);
    cached = require(path) as NativeAddon;
  } catch (e) {
    const err = new Error(
      `corosync native addon not available at ${path}: ${(e as Error).message}. ` +
        "Build it with `npm run build:native` (needs python3, make, a C compiler and Node's headers).",
      { cause: e },
    ) as Error & { code: string };
    err.code = "ERR_NATIVE_ADDON_MISSING";
    throw err;
  }
  if (cached.constants.semSize !== 32) {
    throw new Error(`corosync native addon: sizeof(sem_t) is ${cached.constants.semSize}, expected 32 (glibc, 64-bit)`);
  }
  return cached;
}
