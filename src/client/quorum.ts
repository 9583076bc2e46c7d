/**
 * libquorum for TypeScript: is the cluster quorate, and tell me when that or the membership
 * changes. Speaks corosync 3's `quorum` IPC, so it works against our executive and a real
 * corosync alike.
 *
 * ```ts
 * const q = await QuorumClient.connect({ model: "v1" });
 * console.log(await q.getQuorate());
 * await q.trackStart(TRACK.CHANGES);
 * for await (const e of q.events()) if (e.type === "quorum") console.log(e.event.quorate);
 * ```
 */
import {
  QuorumModel,
  QuorumReq,
  QuorumRes,
  QuorumType,
  TrackFlag,
  decodeQuorumEvent,
  decodeU32Response,
  encodeQuorumRequest,
  type RingIdValue,
} from "../wire/ipc/quorum.js";
import { CorosyncError } from "./errors.js";
import type { IpcClientConnection } from "./ipc/connection.js";
import { ServiceClient, type ClientOptions } from "./service-client.js";

/** `CS_TRACK_*`: CURRENT (one notification now), CHANGES (and every change), CHANGES_ONLY. */
export const TRACK = TrackFlag;
export { QuorumType };

export interface QuorumClientOptions extends ClientOptions {
  /** "v0" (default): quorum notifications with the ring seq; "v1": ring ids and node lists. */
  model?: "v0" | "v1";
}

/** A quorum notification (v0 carries only `ringId.seq`). */
export interface QuorumEvent {
  quorate: boolean;
  ringId: RingIdValue;
  members: number[];
}

/** A model-v1 node list notification (after every membership change). */
export interface NodelistEvent {
  ringId: RingIdValue;
  members: number[];
  joined: number[];
  left: number[];
}

export type QuorumEvents = { quorum: QuorumEvent; nodelist: NodelistEvent };

export class QuorumClient extends ServiceClient<QuorumEvents> {
  private type = 0;

  private constructor(
    conn: IpcClientConnection,
    timeout: number | undefined,
    readonly model: "v0" | "v1",
  ) {
    super(conn, timeout, "quorum");
  }

  /** QUORUM_SET (1) when a provider decides quorum, QUORUM_FREE (0) when always quorate. */
  get quorumType(): number {
    return this.type;
  }

  /** Connect and ask the quorum type (and set the model, as `quorum_model_initialize`). */
  static async connect(options: QuorumClientOptions = {}): Promise<QuorumClient> {
    const conn = await ServiceClient.open("quorum", options);
    const model = options.model ?? "v0";
    const probe = new QuorumClient(conn, options.requestTimeoutMs, model);
    try {
      const type = model === "v1" ? await probe.u32(encodeQuorumRequest(QuorumReq.MODEL_GETTYPE, QuorumModel.V1), "model_gettype") : await probe.u32(encodeQuorumRequest(QuorumReq.GETTYPE), "gettype");
      probe.type = type;
      return probe;
    } catch (e) {
      await probe.close();
      throw e;
    }
  }

  private async u32(req: Uint8Array, what: string): Promise<number> {
    const { res } = await this.call(req, what, 28);
    const v = decodeU32Response(res);
    if (v === undefined) throw new CorosyncError("LIBRARY", `quorum ${what}: short response`);
    return v;
  }

  /** `quorum_getquorate`. */
  async getQuorate(): Promise<boolean> {
    return (await this.u32(encodeQuorumRequest(QuorumReq.GETQUORATE), "getquorate")) !== 0;
  }

  /** `quorum_trackstart`: CURRENT/CHANGES send the current state at once. EXIST if already tracking. */
  async trackStart(flags: number = TrackFlag.CHANGES): Promise<void> {
    await this.call(encodeQuorumRequest(QuorumReq.TRACKSTART, flags), "trackstart");
  }

  /** `quorum_trackstop`. */
  async trackStop(): Promise<void> {
    await this.call(encodeQuorumRequest(QuorumReq.TRACKSTOP), "trackstop");
  }

  /** One notification of the current state (TRACK.CURRENT), then stop tracking. */
  async current(): Promise<QuorumEvent> {
    const got = new Promise<QuorumEvent>((resolve, reject) => {
      const off = this.on("quorum", (e) => {
        off();
        resolve(e);
      });
      this.conn.once("close", () => reject(new CorosyncError("LIBRARY", "quorum: connection closed")));
    });
    await this.trackStart(TrackFlag.CURRENT);
    return got;
  }

  protected onRawEvent(raw: Uint8Array): void {
    const e = decodeQuorumEvent(raw);
    if (e === undefined) return;
    if (e.kind === "quorum") this.dispatch("quorum", { quorate: e.quorate, ringId: e.ringId, members: e.viewList });
    else this.dispatch("nodelist", { ringId: e.ringId, members: e.members, joined: e.joined, left: e.left });
  }
}

export { QuorumRes };
