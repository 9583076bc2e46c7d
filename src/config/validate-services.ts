/**
 * Validation of the quorum, logging and system sections beyond their value sets
 * (corosync 3.1.7 `votequorum_readconfig`, `logconfig.c`, `main.c`; votequorum(5)).
 * Pure: no node:* imports.
 */
import type { DiagnosticList } from "./diagnostics.js";
import { type FlatConfig, flatNumber, flatString, hasNodelist, posOf, readNodelist } from "./flat.js";

/** votequorum's start-up configuration checks. */
export function checkQuorum(flat: FlatConfig, out: DiagnosticList): void {
  const provider = flatString(flat, "quorum.provider");
  const options = [...flat.entries.keys()].filter((k) => k.startsWith("quorum.") && k !== "quorum.provider");
  if (provider === undefined) {
    if (options.length > 0) {
      out.warning(posOf(flat, options[0]!), "quorum options have no effect without 'provider: corosync_votequorum'", options[0]);
    }
    return;
  }
  if (provider !== "corosync_votequorum") return; // reported with the value check
  const u = (key: string) => flatNumber(flat, `quorum.${key}`) ?? 0;
  const at = (key: string) => posOf(flat, `quorum.${key}`, "quorum");
  if (!hasNodelist(flat) && !u("expected_votes")) {
    out.error(at("provider"), "configuration error: nodelist or quorum.expected_votes must be configured!", "quorum.expected_votes");
  }
  const device = flatString(flat, "quorum.device.model") !== undefined;
  if (device && u("two_node")) {
    out.error(at("two_node"), "configuration error: two_node and quorum device cannot be configured at the same time!", "quorum.two_node");
  }
  for (const key of ["last_man_standing", "auto_tie_breaker", "allow_downscale"]) {
    if (device && u(key)) out.error(at(key), `configuration error: quorum.device is not compatible with ${key}`, `quorum.${key}`);
  }
  checkTieBreaker(flat, out);
}

/** auto_tie_breaker: its node list, and its interplay with two_node, WFA and LMS. */
function checkTieBreaker(flat: FlatConfig, out: DiagnosticList): void {
  const u = (key: string) => flatNumber(flat, `quorum.${key}`) ?? 0;
  const at = (key: string) => posOf(flat, `quorum.${key}`, "quorum");
  const atb = u("auto_tie_breaker") !== 0;
  const atbNode = flatString(flat, "quorum.auto_tie_breaker_node");
  if (atbNode !== undefined && !/^(lowest|highest|[0-9]+([ \t]+[0-9]+)*)$/.test(atbNode)) {
    out.error(at("auto_tie_breaker_node"), `auto_tie_breaker_node must be lowest, highest or a list of node ids ("${atbNode}" was given)`, "quorum.auto_tie_breaker_node");
  }
  if (!atb) {
    if (atbNode !== undefined) out.warning(at("auto_tie_breaker_node"), "auto_tie_breaker_node: is meaningless if auto_tie_breaker is set to 0", "quorum.auto_tie_breaker_node");
    return;
  }
  if (u("two_node")) {
    out.warning(at("two_node"), "two_node and auto_tie_breaker are both specified but are not compatible; two_node is disabled", "quorum.two_node");
  }
  const nodes = readNodelist(flat);
  const expected = u("expected_votes") || nodes.reduce((sum, n) => sum + (n.quorumVotes ?? 1), 0);
  const wfa = flat.entries.has("quorum.wait_for_all") ? u("wait_for_all") !== 0 : u("two_node") !== 0;
  if (expected % 2 === 1 && !wfa) {
    if (u("last_man_standing")) {
      out.error(at("auto_tie_breaker"), "configuration error: auto_tie_breaker & last_man_standing not available in odd sized cluster", "quorum.auto_tie_breaker");
    } else {
      out.warning(at("auto_tie_breaker"), "auto_tie_breaker is set and the cluster has an odd number of votes but wait_for_all is not set; auto_tie_breaker is disabled", "quorum.auto_tie_breaker");
    }
  }
}

/** The logging scopes of the file: `logging`, each logger_subsys and logging_daemon. */
function loggingScopes(flat: FlatConfig): string[] {
  const scopes = new Set<string>(["logging"]);
  for (const key of flat.sections.keys()) {
    if (/^logging\.(logger_subsys|logging_daemon)\./.test(key)) scopes.add(key);
  }
  return [...scopes];
}

/** A log file must be named wherever logging to a file is switched on. */
export function checkLogging(flat: FlatConfig, out: DiagnosticList): void {
  const on = (v: string | undefined) => v === "yes" || v === "on";
  for (const scope of loggingScopes(flat)) {
    const key = flat.entries.has(`${scope}.to_logfile`) ? `${scope}.to_logfile` : `${scope}.to_file`;
    if (!on(flatString(flat, key))) continue;
    if (flatString(flat, `${scope}.logfile`) === undefined && flatString(flat, "logging.logfile") === undefined) {
      out.error(posOf(flat, key), `logfile is required when ${key.split(".").pop()} is set (add 'logfile: /var/log/corosync/corosync.log' to logging)`, `${scope}.logfile`);
    }
  }
}

/** system.priority and system.state_dir. */
export function checkSystem(flat: FlatConfig, out: DiagnosticList): void {
  const priority = flatString(flat, "system.priority");
  if (priority !== undefined && !["max", "min"].includes(priority)) {
    const n = /^[+-]?[0-9]+$/.test(priority) ? Number(priority) : NaN;
    if (!(n >= -20 && n <= 19)) {
      out.error(posOf(flat, "system.priority"), `system.priority must be max, min or a nice value from -20 to 19 ("${priority}" was given)`, "system.priority");
    }
  }
  const stateDir = flatString(flat, "system.state_dir");
  if (stateDir !== undefined && !stateDir.startsWith("/")) {
    out.error(posOf(flat, "system.state_dir"), `system.state_dir must be an absolute path ("${stateDir}" was given)`, "system.state_dir");
  }
}
