/**
 * knet's MTU arithmetic (knet-spec §4.5): how many user bytes fit in one DATA frame for a
 * given on-wire (IP-level) size, with or without crypto.
 *
 * Our node does not run PMTUd (Node cannot set the don't-fragment bit); its data MTU is
 * computed once, as libknet does when `knet_mtu` is set: from `knet_mtu`, else from the
 * interface MTU (1500 on a LAN). Worked values: 1500 over IPv4 → 1446 plain, 1397 with
 * aes256 + sha256; the 576-byte minimum → 482 / 421.
 *
 * Pure: no node:* imports.
 */
import { KNET_HEADER_ALL_SIZE } from "../../wire/knet/frame.js";

/** IP + UDP header bytes (`KNET_PMTUD_OVERHEAD_V4` / `_V6`). */
export const UDP_OVERHEAD_V4 = 28;
export const UDP_OVERHEAD_V6 = 48;
/** `KNET_PMTUD_MIN_MTU_V4`: the smallest on-wire size knet assumes. */
export const KNET_MIN_ONWIRE_MTU = 576;
/** The on-wire MTU when neither `knet_mtu` nor the interface tells (Ethernet). */
export const DEFAULT_ONWIRE_MTU = 1500;

/** What crypto adds to every frame; all zero without crypto. */
export interface CryptoOverhead {
  /** Salt (the CBC IV) in front: 16 with a cipher, 0 with a hash only. */
  saltBytes: number;
  /** HMAC at the end. */
  hashBytes: number;
  /** Cipher block size (padding); 0 without a cipher. */
  blockBytes: number;
}

export const NO_CRYPTO: CryptoOverhead = { saltBytes: 0, hashBytes: 0, blockBytes: 0 };

/**
 * libknet's `calc_max_data_outlen`: user bytes per DATA frame when the UDP payload may be
 * `udpPayload` bytes. With a block cipher the encrypted part is rounded down to whole
 * blocks, one byte short so PKCS#7 does not add a block.
 */
export function maxDataOutlen(udpPayload: number, c: CryptoOverhead): number {
  let out = udpPayload;
  if (c.blockBytes > 0) {
    out -= c.saltBytes + c.hashBytes;
    out -= (out % c.blockBytes) + 1;
    out += c.saltBytes + c.hashBytes;
  }
  return out - (KNET_HEADER_ALL_SIZE + c.saltBytes + c.hashBytes);
}

/** The data MTU for an on-wire MTU (`knet_mtu`, or the interface's) and address family. */
export function dataMtuFor(onwireMtu: number, family: "IPv4" | "IPv6", c: CryptoOverhead): number {
  return maxDataOutlen(onwireMtu - (family === "IPv6" ? UDP_OVERHEAD_V6 : UDP_OVERHEAD_V4), c);
}
