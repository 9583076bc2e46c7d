/**
 * cmap key names, as icmap checks them (corosync 3 `exec/icmap.c`, `icmap_check_key_name`).
 *
 * A key name is 3 to 255 characters from `[A-Za-z0-9_./:-]`. corosync's headers set
 * `ICMAP_KEYNAME_MAXLEN` (and `CMAP_KEYNAME_MAXLEN`) to 255 and refuse a longer name with
 * `strlen(name) > 255`; the IPC field that carries a name (`mar_name_t`) holds 256 bytes, the
 * last one for the NUL. (The shared `CMAP_KEYNAME_MAXLEN = 256` in `types.ts` is the size of
 * that field, not the longest accepted name.)
 */
import { utf8Length } from "./values.js";

/** Shortest key name icmap accepts (`ICMAP_KEYNAME_MINLEN`). */
export const ICMAP_KEYNAME_MINLEN = 3;
/** Longest key name icmap accepts (`ICMAP_KEYNAME_MAXLEN`). */
export const ICMAP_KEYNAME_MAXLEN = 255;

const VALID_NAME = /^[A-Za-z0-9_./:-]+$/;
const INVALID_CHAR = /[^A-Za-z0-9_./:-]/gu;

/** True if `key` is a name icmap would store. */
export function isValidKeyName(key: string): boolean {
  return (
    typeof key === "string" &&
    key.length >= ICMAP_KEYNAME_MINLEN &&
    key.length <= ICMAP_KEYNAME_MAXLEN &&
    VALID_NAME.test(key)
  );
}

/**
 * Replaces every byte icmap does not allow with `_`, as
 * `icmap_convert_name_to_valid_name` does (used for keys built from outside names, e.g.
 * a client's process name in `runtime.connections.*`). icmap works on the UTF-8 bytes, so a
 * character outside ASCII becomes as many `_` as it has bytes, and the UTF-8 length is kept.
 */
export function toValidKeyName(name: string): string {
  return name.replace(INVALID_CHAR, (ch) => "_".repeat(utf8Length(ch)));
}
