/**
 * Small pieces the cmap/objctl/blackbox tools share: a GNU-getopt-like option parser (the C
 * tools use getopt: options and operands may be mixed, `--` ends options, `-ab` bundles
 * flags, a value follows its option directly or as the next word), the tools' output
 * sinks, line input for track mode, and "am I the program being run".
 */
import { realpathSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** Where a tool writes and reads. */
export interface ToolIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Lines typed by the user (track mode ends on `q` or end of input). */
  stdin?: NodeJS.ReadableStream;
}

export interface ParsedOptions {
  /** Options in the order given, with their value for value options. */
  options: Array<{ name: string; value?: string }>;
  operands: string[];
}

/** A parse failure, with the message glibc's getopt prints (`invalid option -- 'x'`). */
export class OptionError extends Error {}

/**
 * Parses `argv` with a getopt spec (`"m:hqg"`: a letter followed by `:` takes a value).
 * Throws OptionError for an unknown option or a missing value.
 */
export function getopt(argv: readonly string[], spec: string, program: string): ParsedOptions {
  const takesValue = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) takesValue.set(spec[i]!, spec[i + 1] === ":");
  const options: ParsedOptions["options"] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const needs = takesValue.get(c);
      if (needs === undefined || c === ":") throw new OptionError(`${program}: invalid option -- '${c}'`);
      if (!needs) {
        options.push({ name: c });
        continue;
      }
      const rest = a.slice(j + 1);
      if (rest !== "") options.push({ name: c, value: rest });
      else if (i + 1 < argv.length) options.push({ name: c, value: argv[++i]! });
      else throw new OptionError(`${program}: option requires an argument -- '${c}'`);
      break;
    }
  }
  return { options, operands };
}

/** Calls `onLine` for each input line until it returns true or input ends; resolves then. */
export function readLines(input: NodeJS.ReadableStream, onLine: (line: string) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, terminal: false });
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      rl.close();
      resolve();
    };
    rl.on("line", (line) => {
      if (onLine(line)) finish();
    });
    rl.on("close", finish);
  });
}

/** True when the module at `moduleUrl` is the program being run (also through a bin symlink). */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** Runs a tool's `main` as the program: exit status from its result, unexpected errors reported. */
export function runAsProgram(name: string, main: (argv: string[], io: ToolIo) => Promise<number>): void {
  const io: ToolIo = { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t), stdin: process.stdin };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
      // Track mode leaves stdin and the IPC socket open; finish once output is flushed.
      process.stdout.write("", () => process.exit(code));
    },
    (e: unknown) => {
      process.stderr.write(`${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}

/** Resolves after `ms` (retry pauses). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
