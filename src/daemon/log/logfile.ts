/**
 * One append-only log file of the logger.
 *
 * The file is opened synchronously (so a bad path fails when the configuration is applied,
 * with corosync's wording) and written through a stream, so writes never block. Lines are
 * dropped and counted when more than `maxPendingBytes` wait. A write error (disk full, I/O
 * error) is counted, the stream is dropped, and the file is opened again on a write at least
 * `retryMs` later; lines in between are dropped and counted. `reopen()` opens the path anew
 * (log rotation) and lets the old stream finish what it holds.
 */
import { openSync, createWriteStream, type WriteStream } from "node:fs";
import { getSystemErrorMap } from "node:util";
import { LoggingConfigError } from "./options.js";

export interface FileTargetStats {
  path: string;
  written: number;
  dropped: number;
  errors: number;
  lastError: string | undefined;
}

/** Result of reopening one log file. */
export interface ReopenResult {
  path: string;
  ok: boolean;
  error?: string;
}

/** One append-only log file (see the file comment). */
export class FileTarget {
  private stream: WriteStream | undefined;
  private failedAtMs = Number.NEGATIVE_INFINITY;
  private written = 0;
  private dropped = 0;
  private errors = 0;
  private lastError: string | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly maxPendingBytes: number,
    private readonly retryMs: number,
    private readonly clock: () => number,
  ) {
    this.stream = this.attach(fd);
  }

  /** Opens `path` for appending now, so that a bad path fails at configuration time. */
  static open(path: string, maxPendingBytes: number, retryMs: number, clock: () => number): FileTarget {
    return new FileTarget(path, openForAppend(path), maxPendingBytes, retryMs, clock);
  }

  write(line: string): void {
    const stream = this.stream ?? this.retry();
    if (stream === undefined || stream.writableLength > this.maxPendingBytes) {
      this.dropped++;
      return;
    }
    stream.write(line + "\n");
    this.written++;
  }

  reopen(): ReopenResult {
    let fd: number;
    try {
      fd = openForAppend(this.path);
    } catch (e) {
      this.noteError(e);
      return { path: this.path, ok: false, error: (e as Error).message };
    }
    this.stream?.end();
    this.stream = this.attach(fd);
    return { path: this.path, ok: true };
  }

  flush(): Promise<void> {
    const stream = this.stream;
    if (stream === undefined || stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => stream.write("", () => resolve()));
  }

  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream === undefined || stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      stream.once("close", () => resolve());
      stream.end();
    });
  }

  stats(): FileTargetStats {
    return { path: this.path, written: this.written, dropped: this.dropped, errors: this.errors, lastError: this.lastError };
  }

  private attach(fd: number): WriteStream {
    const stream = createWriteStream(this.path, { fd, flags: "a" });
    stream.on("error", (e) => {
      this.noteError(e);
      if (this.stream === stream) {
        this.stream = undefined;
        this.failedAtMs = this.clock();
      }
    });
    return stream;
  }

  private retry(): WriteStream | undefined {
    if (this.clock() - this.failedAtMs < this.retryMs) return undefined;
    try {
      this.stream = this.attach(openForAppend(this.path));
    } catch (e) {
      this.noteError(e);
      this.failedAtMs = this.clock();
    }
    return this.stream;
  }

  private noteError(e: unknown): void {
    this.errors++;
    this.lastError = (e as Error).message;
  }
}

/** Opens `path` for appending; fails with corosync's wording and the positive errno. */
function openForAppend(path: string): number {
  try {
    return openSync(path, "a", 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const errno = err.errno ?? 0;
    const reason = getSystemErrorMap().get(errno)?.[1] ?? err.message;
    throw new LoggingConfigError(`Can't open logfile '${path}' for reason: ${reason} (${Math.abs(errno)})`, { cause: e });
  }
}
