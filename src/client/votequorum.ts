/**
 * libvotequorum for TypeScript: votes, expected votes and quorum of every node, and
 * notifications when they change. Speaks corosync 3's `votequorum` IPC (our executive or a
 * real corosync).
 *
 * ```ts
 * const vq = await VotequorumClient.connect();
 * const me = await vq.getInfo();            // total/expected/quorum of the local node
 * await vq.setExpected(3);                   // corosync-quorumtool -e 3
 * ```
 */
import { TrackFlag, type RingIdValue } from "../wire/ipc/quorum.js";
import { VqReq, VqRes, decodeGetInfo, decodeVqEvent, encodeVqRequest, type VqInfoWire } from "../wire/ipc/votequorum.js";
import { InfoFlag, NodeState } from "../core/quorum/votequorum.js";
import { CorosyncError } from "./errors.js";
import type { IpcClientConnection } from "./ipc/connection.js";
import { ServiceClient, type ClientOptions } from "./service-client.js";

/** `VOTEQUORUM_INFO_*` flags of `VotequorumInfo.flags` (the engine's table). */
export const VQ_INFO = InfoFlag;

/** `VOTEQUORUM_NODESTATE_*` (the engine's table). */
export const VQ_NODESTATE = NodeState;

/** `struct votequorum_info`. */
export type VotequorumInfo = VqInfoWire;

export type VotequorumEvents = {
  quorum: { quorate: boolean; context: bigint; nodes: Array<{ nodeId: number; state: number }> };
  nodelist: { context: bigint; ringId: RingIdValue; members: number[] };
  expectedVotes: { context: bigint; expectedVotes: number };
};

export class VotequorumClient extends ServiceClient<VotequorumEvents> {
  private constructor(conn: IpcClientConnection, timeout: number | undefined) {
    super(conn, timeout, "votequorum");
  }

  static async connect(options: ClientOptions = {}): Promise<VotequorumClient> {
    return new VotequorumClient(await ServiceClient.open("votequorum", options), options.requestTimeoutMs);
  }

  /** `votequorum_getinfo` for `nodeId` (0 = this node). NOT_EXIST for a node never seen. */
  async getInfo(nodeId = 0): Promise<VotequorumInfo> {
    const { res } = await this.call(encodeVqRequest({ id: VqReq.GETINFO, nodeId }), "getinfo", 60);
    const info = decodeGetInfo(res);
    if (info === undefined) throw new CorosyncError("LIBRARY", "votequorum getinfo: short response");
    return info;
  }

  /** `votequorum_setexpected` (INVALID_PARAM below the total votes or when it would cost quorum). */
  async setExpected(expectedVotes: number): Promise<void> {
    await this.call(encodeVqRequest({ id: VqReq.SETEXPECTED, expectedVotes }), "setexpected");
  }

  /** `votequorum_setvotes` for `nodeId` (0 is not "this node" here: pass our id). */
  async setVotes(nodeId: number, votes: number): Promise<void> {
    await this.call(encodeVqRequest({ id: VqReq.SETVOTES, nodeId, votes }), "setvotes");
  }

  /** `votequorum_trackstart`: `context` comes back in every notification. */
  async trackStart(flags: number = TrackFlag.CHANGES, context = 0n): Promise<void> {
    await this.call(encodeVqRequest({ id: VqReq.TRACKSTART, context, flags }), "trackstart");
  }

  async trackStop(): Promise<void> {
    await this.call(encodeVqRequest({ id: VqReq.TRACKSTOP }), "trackstop");
  }

  /** Quorum-device calls (for a qdevice daemon). */
  async qdeviceRegister(name: string): Promise<void> {
    await this.call(this.encode({ id: VqReq.QDEVICE_REGISTER, name }), "qdevice_register");
  }

  async qdeviceUnregister(name: string): Promise<void> {
    await this.call(this.encode({ id: VqReq.QDEVICE_UNREGISTER, name }), "qdevice_unregister");
  }

  async qdeviceUpdate(oldName: string, newName: string): Promise<void> {
    await this.call(this.encode({ id: VqReq.QDEVICE_UPDATE, oldName, newName }), "qdevice_update");
  }

  async qdevicePoll(name: string, castVote: boolean, ringId: RingIdValue): Promise<void> {
    await this.call(this.encode({ id: VqReq.QDEVICE_POLL, name, castVote, ringId }), "qdevice_poll");
  }

  async qdeviceMasterWins(name: string, allow: boolean): Promise<void> {
    await this.call(this.encode({ id: VqReq.QDEVICE_MASTER_WINS, name, allow }), "qdevice_master_wins");
  }

  private encode(r: Parameters<typeof encodeVqRequest>[0]): Uint8Array {
    try {
      return encodeVqRequest(r);
    } catch (e) {
      throw new CorosyncError("INVALID_PARAM", (e as Error).message, { cause: e });
    }
  }

  protected onRawEvent(raw: Uint8Array): void {
    const e = decodeVqEvent(raw);
    if (e === undefined) return;
    if (e.kind === "quorum") this.dispatch("quorum", { quorate: e.quorate, context: e.context, nodes: e.nodes });
    else if (e.kind === "nodelist") this.dispatch("nodelist", { context: e.context, ringId: e.ringId, members: e.members });
    else this.dispatch("expectedVotes", { context: e.context, expectedVotes: e.expectedVotes });
  }
}

export { VqRes };
