import type { Envelope, SignalSendFrame } from '../../core/wire/index.ts';
import type { DeliveryPump } from '../mailbox/delivery-pump.ts';
import type { PreKeyCounts } from '../prekeys/prekey-store.ts';
import { forwardSignal, type SignalOutcome } from '../signaling.ts';
import { CLOSE_POLICY, type Connection } from '../ws/connection.ts';
import { mailboxKey, type SessionRegistry } from '../ws/session-registry.ts';
import type { Fanout } from './fanout.ts';

export interface LocalFanoutDeps {
  readonly registry: SessionRegistry;
  readonly pumps: ReadonlyMap<Connection, DeliveryPump>;
  readonly prekeyLowThreshold: number;
}

/** Fan-out to the connections of this node: the whole story for a single relay. */
export class LocalFanout implements Fanout {
  constructor(private readonly deps: LocalFanoutDeps) {}

  async bind(conn: Connection): Promise<void> {
    if (conn.mailboxKey) this.deps.registry.bind(conn, conn.mailboxKey);
  }

  unbind(conn: Connection): void {
    this.deps.registry.remove(conn);
  }

  async announce(): Promise<boolean> {
    return false;
  }

  hasLocalOwner(mailbox: Uint8Array, key = mailboxKey(mailbox)): boolean {
    return this.hasOwners(key);
  }

  deposited(env: Envelope, seq: number, prev: number | undefined, key = mailboxKey(env.to)): void {
    this.deliverKey(key, seq, prev, env);
  }

  /** Offers a committed envelope to this node's connections of the mailbox `key` (without `env`: they read it). */
  deliverKey(key: string, seq: number, prev: number | undefined, env: Envelope | undefined): void {
    for (const owner of this.deps.registry.owners(key)) {
      const pump = this.deps.pumps.get(owner);
      if (!pump) continue;
      if (env) pump.offer(seq, env, prev);
      else pump.kick();
    }
  }

  /** Makes every pump of this node look at its mailbox (after missed notifications). */
  kickAll(): number {
    for (const pump of this.deps.pumps.values()) pump.kick();
    return this.deps.pumps.size;
  }

  hasWatchers(key: string): boolean {
    return this.deps.registry.watchers(key).length > 0;
  }

  hasOwners(key: string): boolean {
    return this.deps.registry.owners(key).length > 0;
  }

  async signal(frame: SignalSendFrame): Promise<SignalOutcome> {
    return forwardSignal(this.deps.registry, frame);
  }

  prekeysLow(mailbox: Uint8Array, counts: PreKeyCounts): void {
    this.prekeysLowKey(mailboxKey(mailbox), counts);
  }

  prekeysLowKey(key: string, counts: PreKeyCounts): void {
    const threshold = this.deps.prekeyLowThreshold;
    if (counts.opks >= threshold && counts.pqopks >= threshold) return;
    for (const owner of this.deps.registry.owners(key)) owner.send({ t: 'prekeys.low', opks: counts.opks, pqopks: counts.pqopks });
  }

  signalKey(key: string, blob: Uint8Array): SignalOutcome {
    return forwardSignal(this.deps.registry, { t: 'signal', to: new Uint8Array(Buffer.from(key, 'hex')), blob });
  }

  async watch(conn: Connection, account: Uint8Array): Promise<void> {
    this.deps.registry.watch(conn, mailboxKey(account));
  }

  async devicesChanged(account: Uint8Array, version: number, removed: readonly Uint8Array[]): Promise<void> {
    this.devicesChangedKey(mailboxKey(account), version, removed);
  }

  /**
   * Tells this node's watchers of account `key` (hex of IK) about list `version`, and closes
   * the connections of its `removed` devices: an unlinked device is refused from now on.
   */
  devicesChangedKey(key: string, version: number, removed: readonly Uint8Array[]): void {
    const ik = new Uint8Array(Buffer.from(key, 'hex'));
    const gone = new Set(removed.map((id) => mailboxKey(id)));
    for (const conn of this.deps.registry.watchers(key)) {
      conn.send({ t: 'devices.changed', ik, version });
      const own = conn.identityKey !== undefined && mailboxKey(conn.identityKey) === key;
      if (own && conn.deviceId && gone.has(mailboxKey(conn.deviceId))) conn.closeFor('device_unlinked', CLOSE_POLICY, 'device unlinked');
    }
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}
}
