/**
 * Test helper: a minimal totempg reassembler (totem-spec §5.4, without corosync's throw-away
 * quirks) to check that the fragmented messages in the golden captures join up into whole
 * application messages. One stream per sender; duplicate copies of a frame (the same mcast
 * sent to each peer, or retransmitted) are dropped by (ring id, seq).
 */
import { isWholePiece, type PgPacket } from "../../src/wire/pg/packet.js";
import type { Mcast } from "../../src/wire/totem/types.js";

interface Stream {
  partial: Uint8Array[] | null;
  lastFrag: number;
}

export interface AssemblyStats {
  /** Whole messages that spanned more than one packet. */
  joined: number;
  /** Continuations that did not match the stream's last fragment id. */
  mismatches: number;
  /** Partial messages dropped because a fresh message started. */
  abandoned: number;
}

export class Assembler {
  private readonly streams = new Map<string, Stream>();
  private readonly seen = new Set<string>();
  readonly stats: AssemblyStats = { joined: 0, mismatches: 0, abandoned: 0 };

  /** Feed one packet; returns the whole messages it completes (multi-packet ones only). */
  push(streamKey: string, mcast: Mcast, packet: PgPacket): Uint8Array[] {
    const id = `${streamKey}/${mcast.ringId.rep}.${mcast.ringId.seq}/${mcast.seq}`;
    if (this.seen.has(id)) return [];
    this.seen.add(id);
    let s = this.streams.get(streamKey);
    if (!s) this.streams.set(streamKey, (s = { partial: null, lastFrag: 0 }));
    const out: Uint8Array[] = [];
    const last = packet.pieces.length - 1;
    packet.pieces.forEach((piece, i) => {
      if (i === 0 && packet.continuation !== 0) {
        if (!s.partial || s.lastFrag !== packet.continuation) {
          this.stats.mismatches++;
          s.partial = null;
          return;
        }
        s.partial.push(piece);
        if (!(i === last && packet.fragmented !== 0)) {
          out.push(concat(s.partial));
          s.partial = null;
        }
      } else if (!isWholePiece(packet, i)) {
        if (s.partial) this.stats.abandoned++;
        s.partial = [piece];
      } else if (i === 0 && s.partial) {
        this.stats.abandoned++;
        s.partial = null;
      }
    });
    s.lastFrag = packet.fragmented;
    this.stats.joined += out.length;
    return out;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
