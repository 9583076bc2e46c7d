/**
 * The executive's network: which node we are (the nodelist entry whose ring0 address is one
 * of ours, or the 1.x bindnetaddr form) and the transport for the configured mode (knet,
 * udp, udpu, redundant rings). With knet and crypto on, the authkey is read here and handed
 * to the transport: knet's own crypto protects every frame, the secauth envelope is not used.
 */
import type { CorosyncConfig, Env } from "../config/model.js";
import type { KnetCipher, KnetCryptoConfig, KnetHash } from "../crypto/knet.js";
import { loadAuthKey } from "../crypto/keyfile.js";
import { type CreateTransportOptions, createTransportForThisHost } from "../runtime/transport/factory.js";
import type { Transport } from "../runtime/transport/types.js";

export interface Network {
  localNodeId: number;
  transport: Transport;
  /** Configured ring addresses of a node (for `runtime.members.<id>.ip`). */
  addressesOf(nodeId: number): string[];
  /** knet crypto in use: "aes256/sha256, key from /etc/corosync/authkey" (for the log). */
  knetCrypto?: string;
}

export function setUpNetwork(config: CorosyncConfig, _env: Env): Network {
  const options: CreateTransportOptions = {};
  let knetCrypto: string | undefined;
  if (config.transport === "knet" && config.crypto.enabled) {
    const crypto = knetCryptoConfig(config);
    options.knetCrypto = crypto.config;
    knetCrypto = `${config.crypto.cipher}/${config.crypto.hash}, key from ${crypto.source}`;
  }
  const { transport, plan } = createTransportForThisHost(config, options);
  const byId = new Map(config.nodes.map((n) => [n.nodeId, n.ringAddrs.filter((a): a is string => a !== undefined)]));
  const net: Network = {
    localNodeId: plan.nodeId,
    transport,
    addressesOf: (nodeId) => byId.get(nodeId) ?? (nodeId === plan.nodeId ? plan.rings.map((r) => r.address) : []),
  };
  if (knetCrypto !== undefined) net.knetCrypto = knetCrypto;
  return net;
}

/** The knet crypto settings and the authkey (throws a clear Error when the key is unusable). */
function knetCryptoConfig(config: CorosyncConfig): { config: KnetCryptoConfig; source: string } {
  const { cipher, hash } = config.crypto;
  if (cipher === "chacha20") throw new Error("crypto_cipher chacha20 is not available with the knet transport (use aes256, aes192 or aes128)");
  const { key, source } = loadAuthKey(config.crypto);
  return { config: { cipher: cipher as KnetCipher, hash: hash as KnetHash, key }, source };
}
