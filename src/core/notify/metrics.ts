/**
 * The Prometheus text exposition (format 0.0.4) of one executive's state, pure: a snapshot
 * read from cmap, the stats map, votequorum and cpg goes in, the `/metrics` body comes out.
 * Metric names are documented in docs/notifyd.md; every family is always present with its
 * HELP and TYPE lines, and a family whose source is unavailable (no votequorum, daemon
 * unreachable) has no samples rather than a made-up value.
 */

export interface MemberMetric {
  nodeId: number;
  /** Address from `runtime.members.<id>.ip`. */
  address: string;
  /** `joined` / `left`. */
  status: string;
}

export interface RingMetric {
  ring: number;
  address: string;
  faulty: boolean;
}

export interface ClusterMetricsSnapshot {
  /** Whether notifyd is connected to the executive. */
  up: boolean;
  localNodeId?: number;
  /** Current ring members (`runtime.totem.pg.mrp.srp.members`). */
  ringMembers?: number[];
  /** Every node the executive has seen (`runtime.members.*`). */
  members: MemberMetric[];
  quorate?: boolean;
  votes?: { expected: number; total: number; quorum: number; node: number };
  rings: RingMetric[];
  /** `stats.srp.*` counters and gauges, by name (`mcast_tx`, `mtt_rx_token`...). */
  srp: Readonly<Record<string, number>>;
  /** `stats.srp.rx_dropped.<reason>`. */
  droppedByReason: Readonly<Record<string, number>>;
  ipc?: { active: number; closed: number };
  /** CPG groups and their member counts (undefined when cpg could not be asked). */
  cpgGroups?: Array<{ group: string; members: number }>;
  /** notifyd's own counters. */
  eventsByKind: Readonly<Record<string, number>>;
  notifiersUp: Readonly<Record<string, boolean>>;
}

type Sample = { labels?: Readonly<Record<string, string | number>>; value: number };

/** `\`, `"` and newlines escaped, as the exposition format requires in label values. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function family(name: string, type: "gauge" | "counter", help: string, samples: readonly Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const s of samples) {
    const labels = Object.entries(s.labels ?? {});
    const l = labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`).join(",")}}`;
    lines.push(`${name}${l} ${formatValue(s.value)}`);
  }
  return lines.join("\n");
}

const one = (value: number | undefined): Sample[] => (value === undefined ? [] : [{ value }]);

/** SRP counters exported as `corosync_<name>_total`, with their help text. */
const SRP_COUNTERS: ReadonlyArray<[string, string, string]> = [
  ["mcast_tx", "corosync_messages_sent_total", "Totem messages multicast by this node (stats.srp.mcast_tx)."],
  ["mcast_rx", "corosync_messages_received_total", "Totem messages received by this node (stats.srp.mcast_rx)."],
  ["mcast_retx", "corosync_retransmits_total", "Totem messages retransmitted by this node (stats.srp.mcast_retx)."],
  ["orf_token_rx", "corosync_tokens_received_total", "Tokens received (stats.srp.orf_token_rx)."],
  ["operational_token_lost", "corosync_token_lost_total", "Tokens lost in the operational state (stats.srp.operational_token_lost)."],
  ["gather_entered", "corosync_gather_entered_total", "Times the membership protocol entered GATHER (stats.srp.gather_entered)."],
  ["rx_msg_dropped", "corosync_messages_dropped_total", "Received messages the SRP core dropped (stats.srp.rx_msg_dropped)."],
];

/** The `/metrics` body for a snapshot. */
export function renderMetrics(s: ClusterMetricsSnapshot): string {
  const out: string[] = [];
  out.push(family("corosync_up", "gauge", "1 when corosync-notifyd is connected to the local executive.", [{ value: s.up ? 1 : 0 }]));
  out.push(family("corosync_local_node_id", "gauge", "Node id of the local executive.", one(s.localNodeId)));
  out.push(family("corosync_members", "gauge", "Number of nodes in the current ring membership.", one(s.ringMembers?.length)));
  out.push(
    family(
      "corosync_node_joined",
      "gauge",
      "Per node seen by the executive: 1 while a member (runtime.members.<id>.status joined), 0 once left.",
      [...s.members].sort((a, b) => a.nodeId - b.nodeId).map((m) => ({ labels: { nodeid: m.nodeId, address: m.address, status: m.status }, value: m.status === "joined" ? 1 : 0 })),
    ),
  );
  out.push(family("corosync_quorate", "gauge", "1 when the local node is part of a quorate partition.", one(s.quorate === undefined ? undefined : s.quorate ? 1 : 0)));
  out.push(family("corosync_quorum_expected_votes", "gauge", "Expected votes (votequorum).", one(s.votes?.expected)));
  out.push(family("corosync_quorum_total_votes", "gauge", "Total votes of the current partition (votequorum).", one(s.votes?.total)));
  out.push(family("corosync_quorum_votes_needed", "gauge", "Votes needed for quorum (votequorum).", one(s.votes?.quorum)));
  out.push(family("corosync_quorum_node_votes", "gauge", "Votes of the local node (votequorum).", one(s.votes?.node)));
  out.push(
    family(
      "corosync_ring_faulty",
      "gauge",
      "Per ring (link) of the local node: 1 when marked FAULTY, 0 when active.",
      [...s.rings].sort((a, b) => a.ring - b.ring).map((r) => ({ labels: { ring: r.ring, address: r.address }, value: r.faulty ? 1 : 0 })),
    ),
  );
  const mtt = s.srp.mtt_rx_token;
  out.push(family("corosync_token_rotation_seconds", "gauge", "Last token rotation time (stats.srp.mtt_rx_token).", one(mtt === undefined ? undefined : mtt / 1000)));
  for (const [key, name, help] of SRP_COUNTERS) out.push(family(name, "counter", help, one(s.srp[key])));
  out.push(
    family(
      "corosync_dropped_frames_total",
      "counter",
      "Frames the executive dropped before the protocol core, by reason (stats.srp.rx_dropped.<reason>).",
      Object.keys(s.droppedByReason)
        .sort()
        .map((reason) => ({ labels: { reason }, value: s.droppedByReason[reason]! })),
    ),
  );
  out.push(family("corosync_ipc_connections", "gauge", "Open IPC connections to the executive (stats.ipcs.global.active).", one(s.ipc?.active)));
  out.push(family("corosync_ipc_connections_closed_total", "counter", "IPC connections closed so far (stats.ipcs.global.closed).", one(s.ipc?.closed)));
  out.push(family("corosync_cpg_groups", "gauge", "Number of CPG groups with members.", one(s.cpgGroups?.length)));
  out.push(
    family(
      "corosync_cpg_group_members",
      "gauge",
      "Processes in each CPG group, cluster-wide.",
      (s.cpgGroups ?? []).map((g) => ({ labels: { group: g.group }, value: g.members })),
    ),
  );
  out.push(
    family(
      "corosync_notifyd_events_total",
      "counter",
      "Events corosync-notifyd derived, by kind (node, quorum, connection, link).",
      Object.keys(s.eventsByKind)
        .sort()
        .map((kind) => ({ labels: { kind }, value: s.eventsByKind[kind]! })),
    ),
  );
  out.push(
    family(
      "corosync_notifyd_notifier_up",
      "gauge",
      "1 while a notifier (dbus, snmp, agentx, syslog) is connected to its server.",
      Object.keys(s.notifiersUp)
        .sort()
        .map((notifier) => ({ labels: { notifier }, value: s.notifiersUp[notifier] ? 1 : 0 })),
    ),
  );
  return `${out.join("\n")}\n`;
}

/** The content type of `renderMetrics`' output. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
