/**
 * Every fuzz target, in the order the bounded run and the campaign CLI take them. To fuzz a
 * new decoder, write its target (usually a few lines with `decoderTarget`, see
 * test/fuzz/README.md) and add it here: the bounded run in `npm test` and
 * `npm run fuzz -- --target <name>` pick it up.
 */
import { configTarget } from "./targets/config.js";
import { envelopeTarget } from "./targets/crypto.js";
import { ipcProtocolTarget, ipcRingTarget } from "./targets/ipc.js";
import { ipcServicesTarget } from "./targets/ipc-services.js";
import { hostTarget, syncMessageTarget, syncTarget, totemPgTarget } from "./targets/layers.js";
import { knetCryptoTarget, knetEngineTarget, knetFrameTarget } from "./targets/knet.js";
import {
  cfgEngineTarget,
  cfgExecTarget,
  cmapEngineTarget,
  cmapExecTarget,
  cpgEngineTarget,
  cpgExecTarget,
  votequorumEngineTarget,
  votequorumExecTarget,
} from "./targets/services.js";
import { srpTarget } from "./targets/srp.js";
import { groupTarget, pgPacketTarget, totemTarget } from "./targets/wire.js";
import type { FuzzTarget } from "./target.js";

export const TARGETS: readonly FuzzTarget[] = [
  totemTarget,
  pgPacketTarget,
  groupTarget,
  syncMessageTarget,
  totemPgTarget,
  syncTarget,
  hostTarget,
  envelopeTarget,
  ipcProtocolTarget,
  ipcRingTarget,
  configTarget,
  srpTarget,
  cpgExecTarget,
  cpgEngineTarget,
  votequorumExecTarget,
  votequorumEngineTarget,
  cmapExecTarget,
  cmapEngineTarget,
  cfgExecTarget,
  cfgEngineTarget,
  knetFrameTarget,
  knetCryptoTarget,
  knetEngineTarget,
  ipcServicesTarget,
];

/** The target named `name`; throws with the list of names for an unknown one. */
export function targetNamed(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no fuzz target "${name}"; targets: ${TARGETS.map((x) => x.name).join(", ")}`);
  return t;
}
