/**
 * POSIX/GNU-style option parsing as corosync's tools use `getopt` / `getopt_long`: bundled
 * short options (`-si`), arguments attached or separate (`-e3`, `-e 3`), long options
 * (`--force`, `--kill=3`), `--` ends options; operands may come anywhere (GNU permutes).
 * Errors read like glibc's (`invalid option -- 'x'`).
 */

export interface ParsedOption {
  /** The short option letter, or the long option's name. */
  opt: string;
  arg?: string;
}

export interface GetoptResult {
  options: ParsedOption[];
  operands: string[];
  /** glibc's message for the first bad option (without the program name). */
  error?: string;
}

/**
 * `optstring` as getopt's ("e:v:hs": `:` after a letter = takes an argument); `long` maps
 * long names to whether they take an argument and, optionally, the short letter they mean.
 */
export function getopt(argv: readonly string[], optstring: string, long: Record<string, { arg: boolean; short?: string }> = {}): GetoptResult {
  const takesArg = (c: string): boolean | undefined => {
    const i = optstring.indexOf(c);
    return c === ":" || i < 0 ? undefined : optstring[i + 1] === ":";
  };
  const options: ParsedOption[] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const spec = long[name];
      if (spec === undefined) return { options, operands, error: `unrecognized option '--${name}'` };
      let arg: string | undefined;
      if (spec.arg) {
        arg = inline ?? argv[++i];
        if (arg === undefined) return { options, operands, error: `option '--${name}' requires an argument` };
      } else if (inline !== undefined) {
        return { options, operands, error: `option '--${name}' doesn't allow an argument` };
      }
      options.push(arg === undefined ? { opt: spec.short ?? name } : { opt: spec.short ?? name, arg });
      continue;
    }
    if (!a.startsWith("-") || a === "-") {
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const t = takesArg(c);
      if (t === undefined) return { options, operands, error: `invalid option -- '${c}'` };
      if (!t) {
        options.push({ opt: c });
        continue;
      }
      const rest = a.slice(j + 1);
      const arg = rest !== "" ? rest : argv[++i];
      if (arg === undefined) return { options, operands, error: `option requires an argument -- '${c}'` };
      options.push({ opt: c, arg });
      break;
    }
  }
  return { options, operands };
}

/**
 * corosync's `util_strtonum`: a base-10 integer within [min, max] with nothing after it,
 * or undefined.
 */
export function strtonum(text: string, min: number, max: number): number | undefined {
  if (!/^\s*[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/** C's `ctime()` text without the newline: `Wed Nov 25 08:15:55 2026`, local time. */
export function ctime(d: Date): string {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}
