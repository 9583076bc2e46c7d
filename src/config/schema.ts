/**
 * What corosync.conf may contain: the known sections and keys, the cmap type each key is
 * stored with (totem-spec §9 "Typed keys", corosync 3.1.7 `coroparse.c`), and the values
 * string keys accept (`totemconfig.c`, `logconfig.c`, `main.c`, corosync.conf(5),
 * votequorum(5)). The flattening takes types from here; the validator takes the rest.
 *
 * Keys of corosync 1.x and 2.x that 3.x still parses are listed, so that old files do not
 * warn about them; the ones that do nothing here say so (`noEffect`).
 *
 * Pure: no node:* imports.
 */

/** The cmap type a key is stored as; everything untyped is a string. */
export type ValueType = "u8" | "u16" | "u32" | "i32" | "u64" | "str";

export interface KeySpec {
  type: ValueType;
  /** Accepted values of a string key (exact, case-sensitive, as corosync compares). */
  values?: readonly string[];
  /** Corosync's own message for a value outside `values`. */
  invalid?: string;
  /** The key is obsolete; this is the key to use instead (it is still honoured). */
  replacedBy?: string;
  /** Accepted, but does nothing in this implementation: why. */
  noEffect?: string;
}

export interface SectionSpec {
  keys: Readonly<Record<string, KeySpec>>;
  sections: Readonly<Record<string, SectionSpec>>;
  /** Contents are not checked (free-form or owned by another program). */
  open?: boolean;
  /** Accepted, but does nothing in this implementation: why. */
  noEffect?: string;
}

/** Inclusive integer ranges of the typed keys, as corosync's `safe_atoq_range`. */
export const INTEGER_RANGES: Readonly<Record<Exclude<ValueType, "str">, readonly [bigint, bigint]>> = {
  u8: [0n, 255n],
  u16: [0n, 65535n],
  u32: [0n, 4294967295n],
  i32: [-2147483648n, 2147483647n],
  u64: [0n, 18446744073709551615n],
};

const str = (values?: readonly string[], invalid?: string): KeySpec =>
  values === undefined ? { type: "str" } : invalid === undefined ? { type: "str", values } : { type: "str", values, invalid };
const u8: KeySpec = { type: "u8" };
const u16: KeySpec = { type: "u16" };
const u32: KeySpec = { type: "u32" };
const i32: KeySpec = { type: "i32" };
const u64: KeySpec = { type: "u64" };
const YES_NO = ["yes", "no"] as const;
const ON_OFF = ["on", "off"] as const;
const YES_NO_ON_OFF = ["yes", "no", "on", "off"] as const;
const ONE_X = "it is a corosync 1.x setting";

/** Ciphers `crypto_cipher` accepts; `chacha20` (ChaCha20-Poly1305) is this product's extension. */
export const CRYPTO_CIPHERS = ["none", "aes256", "aes192", "aes128", "chacha20"] as const;
export type CryptoCipher = (typeof CRYPTO_CIPHERS)[number];
/** Hashes `crypto_hash` accepts (corosync's list). */
export const CRYPTO_HASHES = ["none", "md5", "sha1", "sha256", "sha384", "sha512"] as const;
export type CryptoHash = (typeof CRYPTO_HASHES)[number];
export const TRANSPORTS = ["udpu", "udp", "knet"] as const;
/** Syslog priorities corosync's logsys knows (`prioritynames`). */
export const LOG_PRIORITIES = ["alert", "crit", "debug", "emerg", "err", "error", "info", "notice", "warning"] as const;
/** Syslog facilities libqb's `qb_log_facility2int` knows. */
export const SYSLOG_FACILITIES = [
  "auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog", "user", "uucp",
  "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
] as const;

/** The totem timers and counters that corosync stores as u32 (totem-spec §9). */
export const TOTEM_U32_KEYS = [
  "version", "nodeid", "threads", "token", "token_coefficient", "token_retransmit", "token_warning", "hold",
  "token_retransmits_before_loss_const", "join", "send_join", "consensus", "merge", "downcheck",
  "fail_recv_const", "seqno_unchanged_const", "rrp_token_expired_timeout", "rrp_problem_count_timeout",
  "rrp_problem_count_threshold", "rrp_problem_count_mcast_threshold", "rrp_autorecovery_check_timeout",
  "heartbeat_failures_allowed", "max_network_delay", "window_size", "max_messages", "miss_count_const",
  "knet_pmtud_interval", "knet_mtu", "knet_compression_threshold", "netmtu",
] as const;

const INTERFACE: SectionSpec = {
  keys: {
    linknumber: u8,
    ringnumber: u8,
    bindnetaddr: str(),
    mcastaddr: str(),
    mcastport: u16,
    ttl: u8,
    broadcast: str(YES_NO),
    knet_link_priority: u8,
    knet_ping_interval: u32,
    knet_ping_timeout: u32,
    knet_ping_precision: u32,
    knet_pong_count: u32,
    knet_transport: str(["udp", "sctp"], "Unrecognised knet_transport. expected 'udp' or 'sctp'"),
  },
  sections: { member: { keys: { memberaddr: str() }, sections: {} } },
};

const TOTEM: SectionSpec = {
  keys: {
    ...Object.fromEntries(TOTEM_U32_KEYS.map((k) => [k, u32])),
    threads: { type: "u32", noEffect: `${ONE_X} (encryption threads)` },
    version: u32,
    config_version: u64,
    knet_compression_level: i32,
    cluster_name: str(),
    transport: str(TRANSPORTS, "Invalid transport type. Should be udpu, udp or knet"),
    ip_version: str(["ipv4", "ipv6", "ipv4-6", "ipv6-4"], "Invalid ip_version type"),
    secauth: str(ON_OFF),
    crypto_cipher: str(CRYPTO_CIPHERS, "Invalid cipher type. Should be none, aes256, aes192, aes128 or chacha20"),
    crypto_hash: str(CRYPTO_HASHES, "Invalid hash type. Should be none, md5, sha1, sha256, sha384 or sha512"),
    crypto_model: str(["nss", "openssl", "gcrypt"], "Invalid crypto model. Should be nss, openssl or gcrypt"),
    crypto_type: { type: "str", noEffect: `${ONE_X}; use crypto_cipher` },
    crypto_accept: { type: "str", noEffect: ONE_X },
    crypto_compat: { type: "str", noEffect: "it is a corosync 2.x setting" },
    keyfile: str(),
    key: str(),
    link_mode: str(["active", "passive", "rr"]),
    rrp_mode: str(["none", "active", "passive"]),
    clear_node_high_bit: str(YES_NO),
    block_unlisted_ips: str(YES_NO),
    cancel_token_hold_on_retransmit: str(YES_NO),
    knet_compression_model: str(
      ["none", "zlib", "lz4", "lz4hc", "lzo2", "lzma", "bzip2", "zstd"],
      "Invalid compression model. Should be none, zlib, lz4, lz4hc, lzo2, lzma, bzip2 or zstd",
    ),
    vsftype: { type: "str", noEffect: ONE_X },
  },
  sections: { interface: INTERFACE },
};

const LOG_TARGET_KEYS: Record<string, KeySpec> = {
  to_stderr: str(YES_NO_ON_OFF),
  to_logfile: str(YES_NO_ON_OFF),
  to_syslog: str(YES_NO_ON_OFF),
  to_file: { type: "str", values: YES_NO_ON_OFF, replacedBy: "to_logfile" },
  logfile: str(),
  logfile_priority: str(LOG_PRIORITIES, "unknown logfile priority specified"),
  syslog_facility: str(SYSLOG_FACILITIES, "unknown syslog facility specified"),
  syslog_priority: str(LOG_PRIORITIES, "unknown syslog priority specified"),
  syslog_level: { type: "str", values: LOG_PRIORITIES, replacedBy: "syslog_priority" },
  debug: str(["on", "off", "trace"], "unknown value for debug"),
  tags: { type: "str", noEffect: `${ONE_X}; use debug` },
};

const LOGGING: SectionSpec = {
  keys: {
    ...LOG_TARGET_KEYS,
    timestamp: str(["on", "off", "hires"], "unknown value for timestamp"),
    fileline: str(ON_OFF, "unknown value for fileline"),
    function_name: str(ON_OFF, "unknown value for function_name"),
    blackbox: str(ON_OFF, "unknown value for blackbox"),
  },
  sections: {
    logger_subsys: { keys: { ...LOG_TARGET_KEYS, subsys: str() }, sections: {} },
    logging_daemon: { keys: { ...LOG_TARGET_KEYS, name: str(), subsys: str() }, sections: {} },
  },
};

const QUORUM: SectionSpec = {
  keys: {
    provider: str(["corosync_votequorum"], "Invalid quorum provider. Should be corosync_votequorum"),
    expected_votes: u32,
    votes: u32,
    last_man_standing_window: u32,
    leaving_timeout: u32,
    two_node: u8,
    expected_votes_tracking: u8,
    allow_downscale: u8,
    wait_for_all: u8,
    auto_tie_breaker: u8,
    last_man_standing: u8,
    auto_tie_breaker_node: str(),
  },
  sections: {
    device: {
      keys: { model: str(), timeout: u32, sync_timeout: u32, votes: u32, master_wins: u8 },
      sections: {},
      open: true,
    },
  },
};

const NODE_KEYS: Record<string, KeySpec> = {
  ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [`ring${i}_addr`, str()])),
  nodeid: u32,
  name: str(),
  quorum_votes: u32,
};

const RESOURCE_POLL: SectionSpec = {
  keys: { poll_period: u64 },
  sections: { memory_used: { keys: { poll_period: u64, recovery: str() }, sections: {} } },
};

/** The schema of the whole file. */
export const CONFIG_SCHEMA: SectionSpec = {
  keys: { compatibility: { type: "str", noEffect: `${ONE_X} (openais compatibility)` } },
  sections: {
    totem: TOTEM,
    logging: LOGGING,
    quorum: QUORUM,
    nodelist: { keys: {}, sections: { node: { keys: NODE_KEYS, sections: {} } } },
    uidgid: { keys: { uid: str(), gid: str() }, sections: {} },
    system: {
      keys: {
        qb_ipc_type: str(["native", "shm", "socket"], "Invalid system.qb_ipc_type"),
        sched_rr: str(YES_NO, "Invalid system.sched_rr value"),
        priority: str(),
        move_to_root_cgroup: str(["yes", "no", "auto"], "Invalid system.move_to_root_cgroup"),
        allow_knet_handle_fallback: str(YES_NO, "Invalid system.allow_knet_handle_fallback"),
        state_dir: str(),
      },
      sections: {},
    },
    resources: {
      keys: { watchdog_timeout: u32, watchdog_device: str() },
      sections: { system: RESOURCE_POLL, process: RESOURCE_POLL },
    },
    nozzle: { keys: { name: str(), ipaddr: str(), ipprefix: str(), macaddr: str() }, sections: {} },
    pload: { keys: { count: u32, size: u32 }, sections: {}, open: true },
    aisexec: { keys: {}, sections: {}, open: true, noEffect: `${ONE_X} (user and group of the executive)` },
    service: { keys: {}, sections: {}, open: true, noEffect: `${ONE_X} (service plugins are built in here)` },
    amf: { keys: {}, sections: {}, open: true, noEffect: `${ONE_X} (the openais AMF service)` },
    event: { keys: {}, sections: {}, open: true, noEffect: `${ONE_X} (the openais event service)` },
  },
};

/** The spec of the section at `path` (section names, no indices), or undefined if unknown. */
export function sectionSpec(path: readonly string[]): SectionSpec | undefined {
  let spec: SectionSpec | undefined = CONFIG_SCHEMA;
  for (const name of path) {
    if (spec === undefined || spec.open === true) return undefined;
    spec = spec.sections[name];
  }
  return spec;
}

/** The spec of `key` in the section at `path`, or undefined if unknown. */
export function keySpec(path: readonly string[], key: string): KeySpec | undefined {
  return sectionSpec(path)?.keys[key];
}
