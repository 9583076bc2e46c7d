/**
 * Value types of the configuration map, numbered as corosync's `cmap_value_types_t`
 * (corosync 3 `include/corosync/cmap.h`; the same numbers go over IPC and in the CMAP sync
 * message, totem-spec §7.4). This file is the shared contract between the config loader,
 * the store, the IPC service and the tools.
 */
export const CmapType = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  INT64: 7,
  UINT64: 8,
  FLOAT: 9,
  DOUBLE: 10,
  STRING: 11,
  BINARY: 12,
} as const;
export type CmapType = (typeof CmapType)[keyof typeof CmapType];

/** Short names as `corosync-cmapctl` prints and accepts them (`u32`, `str`...). */
export const CMAP_TYPE_NAMES: Readonly<Record<CmapType, string>> = {
  1: "i8",
  2: "u8",
  3: "i16",
  4: "u16",
  5: "i32",
  6: "u32",
  7: "i64",
  8: "u64",
  9: "flt",
  10: "dbl",
  11: "str",
  12: "bin",
};

/**
 * A typed value. Integers up to 32 bits and floats are `number`; 64-bit integers are
 * `bigint`; strings are `string`; binary is `Uint8Array`.
 */
export type CmapValue =
  | { type: typeof CmapType.INT8 | typeof CmapType.UINT8 | typeof CmapType.INT16 | typeof CmapType.UINT16; value: number }
  | { type: typeof CmapType.INT32 | typeof CmapType.UINT32 | typeof CmapType.FLOAT | typeof CmapType.DOUBLE; value: number }
  | { type: typeof CmapType.INT64 | typeof CmapType.UINT64; value: bigint }
  | { type: typeof CmapType.STRING; value: string }
  | { type: typeof CmapType.BINARY; value: Uint8Array };

/** One key with its typed value, as the config loader produces them. */
export interface CmapEntry {
  key: string;
  value: CmapValue;
}

/** Longest key name corosync accepts (`ICMAP_KEYNAME_MAXLEN`). */
export const CMAP_KEYNAME_MAXLEN = 256;
