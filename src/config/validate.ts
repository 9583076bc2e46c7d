/**
 * Semantic validation of a corosync.conf, like corosync 3's start-up checks
 * (`totemconfig.c`, `votequorum.c`, `logconfig.c`, `main.c`) with the 1.x forms this
 * product also runs (multicast without a nodelist, redundant rings, secauth on udp/udpu).
 *
 * Input: the syntax tree (for per-occurrence checks: unknown keys, values) and its
 * flattening (for the cross-key rules, read as corosync reads icmap). Output: errors,
 * warnings and notices, each with file, line, column and the cmap key concerned, in file
 * order. Only errors stop the executive.
 *
 * The passes:
 * - structure (validate-structure.ts): unknown sections/keys with "did you mean", obsolete
 *   keys (`to_file` → `to_logfile`), 1.x settings without effect, value sets;
 * - totem (validate-totem.ts): version 2, crypto, timers and constants;
 * - network (validate-network.ts): transport needs, interfaces, rings, nodelist, node ids;
 * - services (validate-services.ts): quorum, logging, system.
 *
 * Pure: no node:* imports.
 */
import { type ConfigDiagnostic, DiagnosticList, sortDiagnostics } from "./diagnostics.js";
import { type FlatConfig, effectiveTransport } from "./flat.js";
import type { ConfigTree } from "./parse.js";
import { checkStructure } from "./validate-structure.js";
import { checkNetwork } from "./validate-network.js";
import { checkLogging, checkQuorum, checkSystem } from "./validate-services.js";
import { checkCrypto, checkTimers, checkVersion } from "./validate-totem.js";

/** Validate one parsed file and its flattening; diagnostics come back in file order. */
export function validateConfig(tree: ConfigTree, flat: FlatConfig): ConfigDiagnostic[] {
  const out = new DiagnosticList();
  checkStructure(tree, out);
  checkVersion(flat, out);
  // An invalid transport was reported by the structure pass; the checks that depend on
  // it are skipped, the rest still run.
  const transport = effectiveTransport(flat);
  checkCrypto(flat, out, transport);
  checkNetwork(flat, out, transport);
  checkTimers(flat, out, transport ?? "udp");
  checkQuorum(flat, out);
  checkLogging(flat, out);
  checkSystem(flat, out);
  return sortDiagnostics(out.items);
}
