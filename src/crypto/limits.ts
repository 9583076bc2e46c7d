/**
 * Authkey size limits: corosync 3's `TOTEM_PRIVATE_KEY_LEN_MIN/MAX`, which are libknet's
 * `KNET_MIN_KEY_LEN` (128) and `KNET_MAX_KEY_LEN` (4096) (totem-spec §8.3).
 */
export const AUTHKEY_MIN_BYTES = 128;
export const AUTHKEY_MAX_BYTES = 4096;
/** corosync-keygen's default key size (3.x). */
export const AUTHKEY_DEFAULT_BYTES = 256;
