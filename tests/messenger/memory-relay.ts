/**
 * A relay in memory, on a `FakeClock`, with the guarantees the real one gives and the
 * faults it can have, for whole messengers (`Messenger`) in one process without sockets:
 *
 * - A deposit is stored in the recipient's mailbox (once per envelope id while it is
 *   there) and answered `sent`; an online recipient gets a push. Pushes to one client
 *   are FIFO, like frames on one WebSocket.
 * - An ack deletes from the mailbox; on (re)connect the whole mailbox is delivered again,
 *   in deposit order.
 * - Faults (seeded): the `sent` answer is lost (the sender times out and sends again),
 *   a connection drops (pushes in flight and acks are lost; reconnect after a delay,
 *   mailbox redelivered), a push is duplicated later (an old copy arrives after newer
 *   envelopes), and latency on every hop.
 * - Prekeys: publish replaces the signed keys and adds one-time keys; a fetch hands out
 *   (and removes) one of each, or the last-resort PQ key.
 * - Device lists: it keeps none (every account is single-device here); fetching one finds
 *   none. Multi-device paths run against the real relay (tests/transport/device-relay.test.ts).
 */
import { toHex } from '../../src/core/bytes.ts';
import type { FakeClock } from '../../src/core/clock.ts';
import type { RelayClient } from '../../src/core/messenger/relay-client.ts';
import type { Random } from '../../src/core/random.ts';
import { Listeners } from '../../src/core/transport/listeners.ts';
import { TransportSendError, type IncomingEnvelope, type RelayConnectionState, type TransportStateChange } from '../../src/core/transport/index.ts';
import { mailboxAddress, type Envelope, type FetchedBundle, type OneTimePreKey, type PqPreKey, type PublishedBundle } from '../../src/core/wire/index.ts';
import { DEFAULT_WS_RELAY_CONFIG } from '../../src/platform/ws-relay-transport.ts';
import type { PushSubscriptionKeys } from '../../src/core/messenger/push-registration.ts';

export interface RelayFaults {
  /** Chance a deposit's `sent` answer is lost (the envelope IS stored). */
  readonly loseSentAnswer: number;
  /** Chance, per push, that the recipient's connection drops right before it. */
  readonly dropConnection: number;
  /** Chance a push is delivered a second time, up to `maxDelayMs` later. */
  readonly duplicatePush: number;
  /** Latency of each hop, uniform in [0, maxDelayMs). */
  readonly maxDelayMs: number;
  /** Time offline after a dropped connection. */
  readonly reconnectMs: number;
}

export const NO_FAULTS: RelayFaults = { loseSentAnswer: 0, dropConnection: 0, duplicatePush: 0, maxDelayMs: 1, reconnectMs: 100 };

/** How long a client waits for `sent` before it reports a timeout: the WebSocket transport's own default, not a copy. */
export const SEND_TIMEOUT_MS = DEFAULT_WS_RELAY_CONFIG.sendTimeoutMs;

interface StoredBundle {
  ik: Uint8Array;
  spk: PublishedBundle['spk'];
  pqspk: PqPreKey;
  opks: OneTimePreKey[];
  pqopks: PqPreKey[];
}

export class MemoryRelay {
  /** mailbox hex → envelope id hex → envelope, in deposit order. */
  readonly mailboxes = new Map<string, Map<string, Envelope>>();
  readonly bundles = new Map<string, StoredBundle>();
  /** Every bundle publish, in order (ik hex and the SPK id it carried). */
  readonly publishes: Array<{ readonly ik: string; readonly spkId: number; readonly at: number }> = [];
  private readonly clients = new Map<string, MemoryRelayClient>();
  faults: RelayFaults = NO_FAULTS;
  /** Every deposit, in arrival order (resends included). */
  readonly deposits: Envelope[] = [];
  /** While true, acks are held on their connection (a test stops the receiver in between: they are lost). */
  holdAcks = false;
  /** Mailboxes (hex) whose deposits are stored but not pushed until `releasePushes`. */
  readonly holdPushes = new Set<string>();
  private readonly heldAcks: Array<() => void> = [];
  /**
   * A bundle fetch by the client of mailbox `by` for `of` waits for the promise this
   * returns (a slow or hanging fetch); undefined: answered at once.
   */
  holdFetch: ((by: Uint8Array, of: Uint8Array) => Promise<void> | undefined) | undefined;

  constructor(
    readonly clock: FakeClock,
    readonly random: Random,
  ) {}

  /** A `RelayClientFactory` for `MessengerDeps.createRelay`. */
  readonly factory = (auth: { readonly identityKey: Uint8Array }): RelayClient => {
    const client = new MemoryRelayClient(this, mailboxAddress(auth.identityKey));
    return client;
  };

  delay(): number {
    return Math.floor(this.random.float() * this.faults.maxDelayMs);
  }

  chance(p: number): boolean {
    return p > 0 && this.random.float() < p;
  }

  box(mailbox: Uint8Array | string): Map<string, Envelope> {
    const key = typeof mailbox === 'string' ? mailbox : toHex(mailbox);
    let box = this.mailboxes.get(key);
    if (!box) this.mailboxes.set(key, (box = new Map()));
    return box;
  }

  queued(mailbox: Uint8Array): number {
    return this.box(mailbox).size;
  }

  /** The connected client of `mailbox`, if any. */
  clientOf(mailbox: Uint8Array): MemoryRelayClient | undefined {
    return this.clients.get(toHex(mailbox));
  }

  /** Pushes to `mailbox` resume: everything waiting in it is delivered, in order. */
  releasePushes(mailbox: Uint8Array): void {
    this.holdPushes.delete(toHex(mailbox));
    const client = this.clients.get(toHex(mailbox));
    for (const env of [...this.box(mailbox).values()]) client?.push(env);
  }

  register(client: MemoryRelayClient): void {
    this.clients.set(toHex(client.mailbox), client);
  }

  unregister(client: MemoryRelayClient): void {
    if (this.clients.get(toHex(client.mailbox)) === client) this.clients.delete(toHex(client.mailbox));
  }

  /** Stores a deposit; pushes it when fresh and the recipient is online. */
  deposit(env: Envelope): void {
    this.deposits.push({ to: env.to.slice(), id: env.id.slice(), body: env.body.slice() });
    const box = this.box(env.to);
    const id = toHex(env.id);
    if (box.has(id)) return;
    const copy = { to: env.to.slice(), id: env.id.slice(), body: env.body.slice() };
    box.set(id, copy);
    this.clients.get(toHex(env.to))?.push(copy);
  }

  /** Applies held acks whose connection is still up; the others are lost. */
  releaseAcks(): void {
    this.holdAcks = false;
    for (const apply of this.heldAcks.splice(0)) apply();
  }

  hold(apply: () => void): boolean {
    if (!this.holdAcks) return false;
    this.heldAcks.push(apply);
    return true;
  }

  publish(bundle: PublishedBundle): void {
    const key = toHex(bundle.ik);
    const prev = this.bundles.get(key);
    this.bundles.set(key, { ik: bundle.ik, spk: bundle.spk, pqspk: bundle.pqspk, opks: [...(prev?.opks ?? []), ...bundle.opks], pqopks: [...(prev?.pqopks ?? []), ...bundle.pqopks] });
    this.publishes.push({ ik: key, spkId: bundle.spk.id, at: this.clock.now() });
  }

  fetch(ik: Uint8Array): FetchedBundle {
    const b = this.bundles.get(toHex(ik));
    if (!b) throw Object.assign(new Error('no bundle'), { code: 'not_found' });
    const opk = b.opks.shift();
    const pq = b.pqopks.shift();
    return { ik: b.ik, spk: b.spk, pq: pq ? { ...pq, lastResort: false } : { ...b.pqspk, lastResort: true }, ...(opk ? { opk } : {}) };
  }
}

export class MemoryRelayClient implements RelayClient {
  readonly name = 'relay' as const;
  state: RelayConnectionState = { kind: 'offline' };
  private started = false;
  /** Bumped on every (dis)connection: a push or ack of an older connection is lost. */
  private connection = 0;
  /** FIFO: when the last push of this connection lands. */
  private lastPushAt = 0;
  private readonly envelopes = new Listeners<IncomingEnvelope>();
  private readonly states = new Listeners<RelayConnectionState>();
  private readonly transportStates = new Listeners<TransportStateChange>();

  constructor(
    private readonly relay: MemoryRelay,
    readonly mailbox: Uint8Array,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.setState({ kind: 'connecting' });
    this.relay.clock.setTimeout(() => this.connect(), this.relay.delay());
  }

  stop(): void {
    this.started = false;
    this.connection++;
    this.relay.unregister(this);
    this.setState({ kind: 'offline' });
  }

  reconnectNow(): void {
    if (this.state.kind === 'reconnecting') this.connect();
  }

  /** The connection drops now; it comes back after `reconnectMs`. */
  drop(): void {
    if (this.state.kind !== 'online') return;
    this.connection++;
    this.relay.unregister(this);
    const at = this.relay.clock.now() + this.relay.faults.reconnectMs;
    this.setState({ kind: 'reconnecting', at });
    this.relay.clock.setTimeout(() => this.connect(), this.relay.faults.reconnectMs);
  }

  private connect(): void {
    if (!this.started || this.state.kind === 'online') return;
    this.connection++;
    this.lastPushAt = this.relay.clock.now();
    this.relay.register(this);
    this.setState({ kind: 'online' });
    for (const env of [...this.relay.box(this.mailbox).values()]) this.push(env);
  }

  /** Delivers `env` on this connection, FIFO, unless the connection is gone by then. */
  push(env: Envelope): void {
    if (this.state.kind !== 'online' || this.relay.holdPushes.has(toHex(this.mailbox))) return;
    if (this.relay.chance(this.relay.faults.dropConnection)) return this.drop();
    const conn = this.connection;
    const clock = this.relay.clock;
    this.lastPushAt = Math.max(this.lastPushAt, clock.now()) + this.relay.delay();
    clock.setTimeout(() => {
      if (conn !== this.connection) return;
      this.envelopes.emit({ envelope: { to: env.to.slice(), id: env.id.slice(), body: env.body.slice() }, transport: 'relay', ack: () => this.ackOn(conn, env.id) });
    }, this.lastPushAt - clock.now());
    if (this.relay.chance(this.relay.faults.duplicatePush)) {
      clock.setTimeout(() => {
        if (conn === this.connection) this.envelopes.emit({ envelope: { to: env.to.slice(), id: env.id.slice(), body: env.body.slice() }, transport: 'relay', ack: () => this.ackOn(conn, env.id) });
      }, this.lastPushAt - clock.now() + this.relay.delay());
    }
  }

  private ackOn(conn: number, id: Uint8Array): void {
    // An ack travels on the connection it was delivered on; a dropped connection loses it.
    const apply = () => {
      if (conn === this.connection) this.relay.box(this.mailbox).delete(toHex(id));
    };
    if (!this.relay.hold(apply)) this.relay.clock.setTimeout(apply, this.relay.delay());
  }

  isAvailable(): boolean {
    return this.state.kind === 'online';
  }

  send(envelope: Envelope): Promise<void> {
    if (this.state.kind !== 'online') return Promise.reject(new TransportSendError('disconnected', 'relay'));
    const conn = this.connection;
    const clock = this.relay.clock;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        if (ok) resolve();
        else reject(new TransportSendError('timeout', 'relay'));
      };
      clock.setTimeout(() => finish(false), SEND_TIMEOUT_MS);
      clock.setTimeout(() => {
        if (conn !== this.connection) return;
        this.relay.deposit(envelope);
        if (this.relay.chance(this.relay.faults.loseSentAnswer)) return;
        clock.setTimeout(() => {
          if (conn === this.connection) finish(true);
        }, this.relay.delay());
      }, this.relay.delay());
    });
  }

  /** One body to many mailboxes: one deposit each (the relay's one transaction), like `send`'s timing. */
  async sendMulti(id: Uint8Array, to: readonly Uint8Array[], body: Uint8Array): Promise<{ readonly full: readonly Uint8Array[]; readonly unlinked: readonly Uint8Array[] }> {
    await Promise.all(to.map((mailbox) => this.send({ to: mailbox, id, body })));
    return { full: [], unlinked: [] };
  }

  async publishPrekeys(bundle: PublishedBundle): Promise<{ opks: number; pqopks: number }> {
    if (this.state.kind !== 'online') throw new TransportSendError('disconnected', 'relay');
    this.relay.publish(bundle);
    const b = this.relay.bundles.get(toHex(bundle.ik))!;
    return { opks: b.opks.length, pqopks: b.pqopks.length };
  }

  async fetchPrekeys(identityKey: Uint8Array): Promise<FetchedBundle> {
    if (this.state.kind !== 'online') throw new TransportSendError('disconnected', 'relay');
    const held = this.relay.holdFetch?.(this.mailbox, identityKey);
    if (held) await held;
    return this.relay.fetch(identityKey);
  }

  /** The last push subscription this client registered (null: removed). */
  pushSubscription: PushSubscriptionKeys | null | undefined;

  async registerPush(sub: PushSubscriptionKeys): Promise<void> {
    if (this.state.kind !== 'online') throw new TransportSendError('disconnected', 'relay');
    this.pushSubscription = sub;
  }

  async unregisterPush(): Promise<void> {
    if (this.state.kind !== 'online') throw new TransportSendError('disconnected', 'relay');
    this.pushSubscription = null;
  }

  async publishDeviceList(): Promise<number> {
    throw Object.assign(new Error('the memory relay keeps no device lists'), { code: 'internal' });
  }

  async fetchDeviceList(): Promise<undefined> {
    if (this.state.kind !== 'online') throw new TransportSendError('disconnected', 'relay');
    return undefined;
  }

  async watchDevices(identityKeys: readonly Uint8Array[]): Promise<number> {
    if (this.state.kind !== 'online') throw new TransportSendError('disconnected', 'relay');
    return identityKeys.length;
  }

  onDevicesChanged(): () => void {
    return () => {};
  }

  sendSignal(): void {}

  /** Device-link channels are the real relay's (tests/messenger/device-link.test.ts); this fake has none. */
  async openLinkChannel(): Promise<void> {
    throw new Error('the memory relay has no link channels');
  }

  async joinLinkChannel(): Promise<void> {
    throw new Error('the memory relay has no link channels');
  }

  sendLinkData(): void {}

  onLinkData(): () => void {
    return () => {};
  }

  onLinkClosed(): () => void {
    return () => {};
  }

  onSignal(): () => void {
    return () => {};
  }

  onPrekeysLow(): () => void {
    return () => {};
  }

  onEnvelope(listener: (incoming: IncomingEnvelope) => void): () => void {
    return this.envelopes.add(listener);
  }

  onStateChange(listener: (change: TransportStateChange) => void): () => void {
    return this.transportStates.add(listener);
  }

  onConnectionState(listener: (state: RelayConnectionState) => void): () => void {
    return this.states.add(listener);
  }

  private setState(state: RelayConnectionState): void {
    this.state = state;
    this.states.emit(state);
    this.transportStates.emit({ transport: 'relay', available: state.kind === 'online' });
  }
}
