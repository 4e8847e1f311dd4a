/**
 * What the group parts (groups.ts and its group-*.ts files) need from the rest of the
 * core, and the small vocabulary they share. The parts do the groups' cryptography and
 * bookkeeping; how a frame reaches a member device is the ports' business: pairwise over
 * the member device's Double Ratchet session (the outbox, starting a session with a
 * member who is not a contact), and one body to many mailboxes (`send.multi`).
 */
import { toHex } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import type { CryptoRuntime, Identity } from '../crypto/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import type { GroupStore } from '../store/index.ts';

/** A member device: account (hex of its identity key) and device (hex id, or '-' for a single-device account). */
export interface MemberDevice {
  readonly account: string;
  readonly device: string;
}

export const SINGLE_DEVICE = '-';

export const addressOf = (d: MemberDevice): string => `${d.account}:${d.device}`;

export function parseAddress(address: string): MemberDevice {
  const i = address.indexOf(':');
  return { account: address.slice(0, i), device: address.slice(i + 1) };
}

export interface GroupPorts {
  /** This device's id (hex), or SINGLE_DEVICE. */
  readonly thisDevice: string;
  /** An account's devices as its verified device list names them ([SINGLE_DEVICE] for a single-device account). */
  devicesOf(account: string): Promise<readonly string[]>;
  /**
   * A group frame to one member device over its pairwise session, queued durably; without a
   * session yet, the frame waits for it in the outbox while one is started. Never waits for it.
   */
  sendPairwise(to: MemberDevice, frame: Uint8Array): Promise<void>;
  /**
   * A group frame over the member device's session as it is now: without one, a session is
   * started and this rejects at once (NoSessionError); the caller keeps what it owes.
   */
  sendOverSession(to: MemberDevice, frame: Uint8Array): Promise<void>;
  /** One body deposited for every one of `to` (`send.multi`), under envelope id `id`; resolves once the relay holds it. */
  sendMulti(id: Uint8Array, to: readonly MemberDevice[], body: Uint8Array): Promise<void>;
  /** The name the user knows an account by (its contact name, a local one included), when it is a contact. */
  contactName(account: string): string | undefined;
  /**
   * The name a contact gave itself (its profile), when it is a contact: what we tell other
   * members, never the name the user gave it here (private, and not bound by the wire's limit).
   */
  profileName(account: string): string | undefined;
  /** Whether an account is a contact we may add to a group (known, not blocked). */
  isContact(account: string): boolean;
  /** Our display name (given to members who do not know us). */
  ownName(): string;
  /**
   * The accounts whose identity key change (or claim to another's name, key-change.ts)
   * waits for the user's acknowledgement, each with when it was detected.
   */
  keyChanges(): ReadonlyMap<string, number>;
}

export interface GroupContext {
  readonly store: GroupStore;
  readonly identity: Identity;
  readonly crypto: CryptoRuntime;
  readonly random: Random;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly ports: GroupPorts;
}

/** Our account id (hex). */
export const meOf = (ctx: GroupContext): string => toHex(ctx.identity.publicKey);

/** Storage key of a sender-key row: ours, or a member device's. */
export const ownKeyRow = (groupId: string): string => `${groupId}:self`;
export const memberKeyRow = (groupId: string, d: MemberDevice): string => `${groupId}:${addressOf(d)}`;

/** Counts a dropped group input and logs it (never its contents). */
export function dropped(ctx: GroupContext, reason: string, detail?: Record<string, string | number>): void {
  ctx.metrics.inc('groups.drop', { reason });
  ctx.log.warn('group input dropped', { reason, ...detail });
}
