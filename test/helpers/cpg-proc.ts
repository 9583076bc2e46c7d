/**
 * Test helper: runs `cpg-child.js` (a CPG client process on our client library) or any
 * command printing lines, optionally wrapped (`ip netns exec NS`, `setpriv ...`), collects
 * its JSON-line events, waits for them with deadlines, and kills it by pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const CPG_CHILD = fileURLToPath(new URL("./cpg-child.js", import.meta.url));

export type ChildEvent = { ev: string } & Record<string, unknown>;

export class LineProc {
  readonly lines: string[] = [];
  readonly events: ChildEvent[] = [];
  readonly stderr: string[] = [];
  exitCode: number | null | undefined;
  readonly exited: Promise<void>;
  private readonly proc: ChildProcess;

  constructor(argv: string[], env?: Record<string, string>) {
    this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
    createInterface({ input: this.proc.stdout! }).on("line", (l) => {
      this.lines.push(l);
      if (l.startsWith("{")) {
        try {
          this.events.push(JSON.parse(l) as ChildEvent);
        } catch {
          /* not an event */
        }
      }
    });
    createInterface({ input: this.proc.stderr! }).on("line", (l) => this.stderr.push(l));
    this.proc.stdin!.on("error", () => {});
    this.exited = new Promise((r) => this.proc.on("exit", (code, sig) => ((this.exitCode = code ?? (sig ? 128 : null)), r())));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  send(cmd: Record<string, unknown>): void {
    if (this.exitCode === undefined) this.proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  write(text: string): void {
    if (this.exitCode === undefined) this.proc.stdin!.write(text);
  }

  endInput(): void {
    this.proc.stdin!.end();
  }

  /** Polls until `pred` holds; throws with the recent output after `ms`. */
  async waitFor(what: string, pred: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; exit ${this.exitCode}; last lines:\n${this.lines.slice(-10).join("\n")}\n${this.stderr.slice(-10).join("\n")}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  waitEvent(what: string, pred: (e: ChildEvent) => boolean, ms?: number): Promise<void> {
    return this.waitFor(what, () => this.events.some(pred), ms);
  }

  kill(sig: NodeJS.Signals = "SIGKILL"): void {
    if (this.exitCode === undefined) {
      try {
        process.kill(this.proc.pid!, sig);
      } catch {
        /* gone */
      }
    }
  }
}

/** A `cpg-child` client process. */
export function cpgChild(spec: Record<string, unknown>, wrap: string[] = []): LineProc {
  return new LineProc([...wrap, process.execPath, CPG_CHILD, JSON.stringify(spec)]);
}
