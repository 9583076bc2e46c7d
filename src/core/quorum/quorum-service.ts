/**
 * The quorum service (service 3, corosync 3.1.7 `vsf_quorum.c`): the cluster-wide "are we
 * quorate" answer that libquorum clients (Pacemaker, corosync-quorumtool) read and track.
 * With a provider (`quorum.provider: corosync_votequorum`) the provider decides through
 * `setQuorum`; without one the node is always quorate ("quorum type" 0, FREE).
 *
 * It takes part in sync only to compute the member / joined / left lists of each new ring for
 * model-v1 clients. Pure.
 */
import type { RingId } from "../../wire/totem/types.js";
import { ServiceId, type ServiceApi, type ServiceEngine, type SyncHooks } from "../services/types.js";

/** Who hears about changes (the IPC layer). */
export interface QuorumServiceListener {
  /** Quorate or the view changed (`send_library_notification`). */
  quorumNotification?(): void;
  /** A sync round completed (`send_nodelist_library_notification` with joined/left lists). */
  nodelistNotification?(): void;
  /** Internal trackers (`quorum_register_callback`), e.g. services that block when inquorate. */
  quorateChanged?(quorate: boolean): void;
}

export class QuorumService implements ServiceEngine {
  readonly id = ServiceId.QUORUM;
  readonly name = "corosync_quorum";
  readonly sync: SyncHooks;
  listener: QuorumServiceListener = {};

  /** 1 when a provider decides quorum (`QUORUM_SET`), 0 otherwise (`QUORUM_FREE`). */
  readonly quorumType: 0 | 1;
  /** `primary_designated`. */
  quorate: boolean;
  /** The provider's last view: members and ring. */
  viewList: number[] = [];
  quorumRingId: RingId = { rep: 0, seq: 0n };

  /** Lists of the current sync round (model v1 nodelist notifications). */
  memberList: number[] = [];
  joinedList: number[] = [];
  leftList: number[] = [];
  lastSyncRingId: RingId = { rep: 0, seq: 0n };
  private oldMemberList: number[] = [];

  constructor(
    private readonly api: ServiceApi,
    provider: boolean,
  ) {
    this.quorumType = provider ? 1 : 0;
    this.quorate = !provider;
    this.sync = {
      init: (trans, members, ringId) => this.syncInit(trans, members, ringId),
      process: () => true,
      activate: () => {
        this.oldMemberList = [...this.memberList];
        this.listener.nodelistNotification?.();
      },
      abort: () => {},
    };
  }

  /** The service has no exec messages. */
  exec(): void {}

  /**
   * `quorum_api_set_quorum`, the provider's callback: log the transition, remember the view
   * and tell internal and library trackers.
   */
  setQuorum(viewList: readonly number[], quorate: boolean, ringId: RingId): void {
    const was = this.quorate;
    this.quorate = quorate;
    if (quorate && !was) this.api.log("notice", "QUORUM", "This node is within the primary component and will provide service.");
    else if (!quorate && was) this.api.log("notice", "QUORUM", "This node is within the non-primary component and will NOT provide any services.");
    this.viewList = [...viewList];
    this.quorumRingId = { ...ringId };
    this.listener.quorateChanged?.(quorate);
    this.listener.quorumNotification?.();
  }

  /**
   * `quorum_sync_init`: left = old members not in the transitional list (or not in the new
   * ring); joined = new members that were not old members, or that left and came back.
   */
  private syncInit(trans: readonly number[], members: readonly number[], ringId: RingId): void {
    this.memberList = [...members];
    this.lastSyncRingId = { ...ringId };
    this.leftList = this.oldMemberList.filter((n) => !trans.includes(n) || !members.includes(n));
    this.joinedList = members.filter((n) => !this.oldMemberList.includes(n) || this.leftList.includes(n));
    this.api.log("notice", "QUORUM", `Sync members[${members.length}]:${members.map((n) => ` ${n}`).join("")}`);
    if (this.joinedList.length > 0) this.api.log("notice", "QUORUM", `Sync joined[${this.joinedList.length}]:${this.joinedList.map((n) => ` ${n}`).join("")}`);
    if (this.leftList.length > 0) this.api.log("notice", "QUORUM", `Sync left[${this.leftList.length}]:${this.leftList.map((n) => ` ${n}`).join("")}`);
  }
}
