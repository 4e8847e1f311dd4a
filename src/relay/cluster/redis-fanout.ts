import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Envelope, SignalSendFrame } from '../../core/wire/index.ts';
import type { PreKeyCounts } from '../prekeys/prekey-store.ts';
import type { SignalOutcome } from '../signaling.ts';
import type { Connection } from '../ws/connection.ts';
import { mailboxKey } from '../ws/session-registry.ts';
import type { ClusterMetrics } from './cluster-metrics.ts';
import type { Fanout } from './fanout.ts';
import type { LocalFanout } from './local-fanout.ts';
import { decodeNotification, encodeNotification, INLINE_BODY_MAX, type Notification } from './notification.ts';

export interface RedisFanoutOptions {
  /** Commands (PUBLISH, PING); shared with the rate-limit store. */
  readonly redis: Redis;
  /** Prefix of every channel, so several deployments (or test runs) can share one Redis. */
  readonly prefix: string;
  /** This process's random id: its own notifications come back to it and are ignored. */
  readonly nodeId: string;
  /** How often every local pump re-reads its mailbox while subscriptions are down. */
  readonly pollIntervalMs: number;
  readonly local: LocalFanout;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
}

/**
 * Cross-node fan-out over Redis pub/sub, one channel per mailbox. A node subscribes to
 * the channel of each mailbox it holds a connection for, and publishes every event of a
 * mailbox to its channel; PUBLISH answers how many nodes listened, which is presence.
 *
 * Pub/sub loses what is published while a subscriber is disconnected, and that is
 * fine here: PostgreSQL holds every envelope. While the subscription connection is down
 * every local pump re-reads its mailbox each `pollIntervalMs`, and once it is back (every
 * channel subscribed again) each pump reads once more, so nothing waits for a next event.
 * A node that could not PUBLISH (its own link to Redis was down while other nodes' were
 * up) announces a `resync` on the cluster-wide channel once its link is back, and every
 * node's pumps then re-read their mailboxes once.
 */
export class RedisFanout implements Fanout {
  private readonly sub: Redis;
  /** Mailboxes (hex) this node listens for, and the SUBSCRIBE in flight for each. */
  private readonly channels = new Map<string, Promise<void>>();
  /** Accounts (hex of IK) this node has device-list watchers for, and the SUBSCRIBE in flight for each. */
  private readonly accountChannels = new Map<string, Promise<void>>();
  private poller: ReturnType<typeof setInterval> | undefined;
  /** Retries the resync announcement (a publish may also fail on a timeout, with no reconnect to trigger it). */
  private readonly resyncRetry: ReturnType<typeof setInterval>;
  private closed = false;
  /** A publish failed since the last successful resync announcement. */
  private missedPublishes = false;

  constructor(private readonly o: RedisFanoutOptions) {
    this.sub = o.redis.duplicate({ autoResubscribe: false, enableOfflineQueue: false, lazyConnect: true });
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel, message));
    this.sub.on('ready', () => void this.onSubscriberReady());
    this.sub.on('close', () => this.onSubscriberLost());
    this.sub.on('error', (err: Error) => o.log.debug({ err: err.message }, 'redis subscriber error'));
    o.redis.on('ready', () => {
      this.updateUp();
      if (this.missedPublishes) void this.announceResync();
    });
    o.redis.on('close', () => this.updateUp());
    this.startPolling();
    this.resyncRetry = setInterval(() => {
      if (this.missedPublishes && o.redis.status === 'ready') void this.announceResync();
    }, o.pollIntervalMs);
    this.resyncRetry.unref();
    this.sub.connect().catch((err: unknown) => o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'redis subscriber not connected yet; polling'));
  }

  private channel(key: string): string {
    return `${this.o.prefix}mbx:${key}`;
  }

  private accountChannel(key: string): string {
    return `${this.o.prefix}dev:${key}`;
  }

  private get clusterChannel(): string {
    return `${this.o.prefix}cluster`;
  }

  private async announceResync(): Promise<void> {
    try {
      await this.o.redis.publish(this.clusterChannel, encodeNotification({ kind: 'resync', node: this.o.nodeId }));
      this.missedPublishes = false;
      this.o.metrics.published.inc({ kind: 'resync' });
      this.o.log.info('announced a resync after notifications this node could not publish');
    } catch {
      // Still unreachable: the next 'ready' tries again.
    }
  }

  async bind(conn: Connection): Promise<void> {
    await this.o.local.bind(conn);
    const key = conn.mailboxKey;
    if (!key) return;
    let subscribing = this.channels.get(key);
    if (!subscribing) {
      subscribing = this.subscribe(key);
      this.channels.set(key, subscribing);
    }
    await subscribing;
  }

  private async subscribe(key: string, channel = this.channel(key)): Promise<void> {
    if (this.sub.status !== 'ready') return; // subscribed with the others once the connection is back
    try {
      await this.sub.subscribe(channel);
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'subscribe failed; polling covers it');
    }
  }

  async watch(conn: Connection, account: Uint8Array): Promise<void> {
    await this.o.local.watch(conn, account);
    const key = mailboxKey(account);
    let subscribing = this.accountChannels.get(key);
    if (!subscribing) {
      subscribing = this.subscribe(key, this.accountChannel(key));
      this.accountChannels.set(key, subscribing);
    }
    await subscribing;
  }

  async devicesChanged(account: Uint8Array, version: number, removed: readonly Uint8Array[]): Promise<void> {
    const key = mailboxKey(account);
    this.o.local.devicesChangedKey(key, version, removed);
    await this.publishOn(this.accountChannel(key), { kind: 'devices_changed', node: this.o.nodeId, version, removed });
  }

  unbind(conn: Connection): void {
    this.o.local.unbind(conn);
    for (const watched of conn.watching) {
      if (this.o.local.hasWatchers(watched) || !this.accountChannels.has(watched)) continue;
      this.accountChannels.delete(watched);
      if (this.sub.status === 'ready') this.sub.unsubscribe(this.accountChannel(watched)).catch(() => {});
    }
    const key = conn.mailboxKey;
    if (!key || this.o.local.hasOwners(key) || !this.channels.has(key)) return;
    this.channels.delete(key);
    if (this.sub.status === 'ready') this.sub.unsubscribe(this.channel(key)).catch(() => {});
  }

  hasLocalOwner(mailbox: Uint8Array, key?: string): boolean {
    return this.o.local.hasLocalOwner(mailbox, key);
  }

  async announce(env: Envelope, seq: number, prev: number | undefined, duplicate: boolean): Promise<boolean> {
    // Without the envelope (too large, or a duplicate whose predecessor is unknown) the recipient's node reads its mailbox.
    const inline = !duplicate && prev !== undefined && env.body.length <= INLINE_BODY_MAX ? { id: env.id, body: env.body } : undefined;
    // A retry may be of a deposit whose node died unannounced: this node's connections re-read too.
    if (duplicate) this.o.local.deliverKey(mailboxKey(env.to), seq, undefined, undefined);
    const key = mailboxKey(env.to);
    const listeners = await this.publish(key, { kind: 'deposit', node: this.o.nodeId, seq, prev: prev ?? 0, ...(inline ? { env: inline } : {}) });
    // PUBLISH counts this node too when it listens on the channel.
    return listeners !== undefined && listeners - (this.channels.has(key) ? 1 : 0) > 0;
  }

  deposited(env: Envelope, seq: number, prev: number | undefined, key?: string): void {
    this.o.local.deposited(env, seq, prev, key);
  }

  async signal(frame: SignalSendFrame): Promise<SignalOutcome> {
    const here = await this.o.local.signal(frame);
    const key = mailboxKey(frame.to);
    const listeners = await this.publish(key, { kind: 'signal', node: this.o.nodeId, blob: frame.blob });
    // PUBLISH counts this node too when it listens on the channel.
    const elsewhere = listeners === undefined ? 0 : listeners - (this.channels.has(key) ? 1 : 0);
    return here === 'forwarded' || elsewhere > 0 ? 'forwarded' : here;
  }

  prekeysLow(mailbox: Uint8Array, counts: PreKeyCounts): void {
    this.o.local.prekeysLow(mailbox, counts);
    void this.publish(mailboxKey(mailbox), { kind: 'prekeys_low', node: this.o.nodeId, counts });
  }

  /** Publishes; resolves with how many subscribers got it, or undefined if Redis could not be reached. */
  private async publish(key: string, n: Notification): Promise<number | undefined> {
    return this.publishOn(this.channel(key), n);
  }

  private async publishOn(channel: string, n: Notification): Promise<number | undefined> {
    try {
      const listeners = await this.o.redis.publish(channel, encodeNotification(n));
      this.o.metrics.published.inc({ kind: n.kind });
      return listeners;
    } catch (err) {
      this.missedPublishes = true;
      this.o.metrics.publishFailures.inc();
      this.o.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'publish failed');
      return undefined;
    }
  }

  /** Never throws: an exception here would escape into ioredis and end the process. */
  private onMessage(channel: Buffer, message: Buffer): void {
    try {
      this.handle(channel, message);
    } catch (err) {
      this.o.log.error({ err: err instanceof Error ? err.message : String(err) }, 'notification handling failed');
    }
  }

  private handle(channel: Buffer, message: Buffer): void {
    const name = channel.toString('latin1');
    const key = name.slice(this.o.prefix.length + 4);
    let n: Notification;
    try {
      n = decodeNotification(message);
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'ignored a malformed notification');
      return;
    }
    if (n.node === this.o.nodeId) return;
    this.o.metrics.received.inc({ kind: n.kind });
    switch (n.kind) {
      case 'resync':
        if (name === this.clusterChannel) this.o.local.kickAll();
        return;
      case 'deposit':
        this.o.local.deliverKey(key, n.seq, n.prev, n.env ? { to: new Uint8Array(Buffer.from(key, 'hex')), id: n.env.id, body: n.env.body } : undefined);
        return;
      case 'signal':
        this.o.local.signalKey(key, n.blob);
        return;
      case 'prekeys_low':
        this.o.local.prekeysLowKey(key, n.counts);
        return;
      case 'devices_changed':
        if (name.startsWith(`${this.o.prefix}dev:`)) this.o.local.devicesChangedKey(key, n.version, n.removed);
        return;
    }
  }

  private async onSubscriberReady(): Promise<void> {
    const keys = [...this.channels.keys()];
    const names = [...keys.map((k) => this.channel(k)), ...[...this.accountChannels.keys()].map((k) => this.accountChannel(k))];
    try {
      await this.sub.subscribe(this.clusterChannel);
      for (let i = 0; i < names.length; i += 1000) await this.sub.subscribe(...names.slice(i, i + 1000));
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'resubscribe failed; still polling');
      return;
    }
    this.stopPolling();
    this.updateUp();
    // Whatever was published while we were away is in PostgreSQL: read it now.
    const pumps = this.o.local.kickAll();
    this.o.log.info({ channels: keys.length, pumps }, 'redis subscriptions ready');
  }

  private onSubscriberLost(): void {
    this.updateUp();
    if (!this.closed) this.startPolling();
  }

  private startPolling(): void {
    if (this.poller || this.closed) return;
    this.poller = setInterval(() => {
      this.o.metrics.pollRounds.inc();
      this.o.local.kickAll();
    }, this.o.pollIntervalMs);
    this.poller.unref();
  }

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }

  private updateUp(): void {
    this.o.metrics.redisUp.set(this.o.redis.status === 'ready' && this.sub.status === 'ready' && !this.poller ? 1 : 0);
  }

  async check(): Promise<void> {
    if (this.o.redis.status !== 'ready' || this.sub.status !== 'ready' || this.poller) throw new Error('redis unavailable');
    await this.o.redis.ping();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    clearInterval(this.resyncRetry);
    await this.sub.quit().catch(() => this.sub.disconnect());
  }
}
