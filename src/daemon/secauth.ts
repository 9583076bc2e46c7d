/**
 * secauth on udp/udpu: the authenticated-encryption envelope around every datagram when the
 * configuration asks for it (`secauth: on`, or `crypto_cipher`/`crypto_hash` ≠ none). The key
 * comes from `totem.keyfile` (default /etc/corosync/authkey), refused when missing, unreadable,
 * too short or readable by others (src/crypto/keyfile.ts says which, naming the path).
 */
import type { CorosyncConfig } from "../config/model.js";
import { createEnvelope, ENVELOPE_OVERHEAD } from "../crypto/envelope.js";
import { loadAuthKey } from "../crypto/keyfile.js";
import type { FrameEnvelope } from "../runtime/driver.js";

export interface Secauth {
  envelope: FrameEnvelope;
  /** Bytes the envelope adds to every datagram (taken off the netmtu budget). */
  overhead: number;
  /** Where the key came from (for the log). */
  keySource: string;
  suiteName: string;
}

/**
 * The envelope for this node, or undefined when secauth is off or the transport is knet
 * (knet encrypts inside the transport, as corosync 3 does). Throws a clear Error.
 */
export function setUpEnvelope(config: CorosyncConfig, nodeId: number): Secauth | undefined {
  if (!config.crypto.enabled || config.transport === "knet") return undefined;
  const { key, source } = loadAuthKey(config.crypto);
  const envelope = createEnvelope({
    mode: { cipher: config.crypto.cipher, hash: config.crypto.hash },
    key,
    clusterName: config.clusterName ?? "",
    nodeId,
  });
  return { envelope, overhead: ENVELOPE_OVERHEAD, keySource: source, suiteName: envelope.suite.name };
}
