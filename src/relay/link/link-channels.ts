/**
 * The relay's side of device linking (docs/PROTOCOL.md §13.6): a rendezvous by the 16-byte
 * channel id. The existing device holds a channel (`link.open`), the new device joins it
 * (`link.join`), and from then on each end's `link.data` goes to the other end, opaquely:
 * the relay learns the channel id, when the two met and how many bytes passed.
 *
 * On one node (both ends on this relay; `RedisLinkChannels` meets them across a cluster's
 * nodes). Bounded: at most `maxPerConnection` channels per connection, each
 * for `ttlMs` from its opening, carrying at most `maxBytes` and `maxFrames` of data; a
 * channel ends (both ends told `link.closed`) when either connection closes or it expires.
 * Every refusal is a typed result the handler turns into an error frame and a metric.
 */
import { HIGH_WATER_BYTES, type Connection } from '../ws/connection.ts';
import type { LinkAnswer, LinkHooks, LinkRefusal, LinkRendezvous } from './link-rendezvous.ts';

export interface LinkChannelLimits {
  /** A channel ends this long after it was opened (at least the link's 10 minutes). */
  readonly ttlMs: number;
  /** Channels one connection may hold or have joined at once. */
  readonly maxPerConnection: number;
  /** Data bytes one channel may carry, both directions together. */
  readonly maxBytes: number;
  /** `link.data` frames one channel may carry. */
  readonly maxFrames: number;
}

export const DEFAULT_LINK_CHANNEL_LIMITS: LinkChannelLimits = {
  ttlMs: 15 * 60 * 1000,
  maxPerConnection: 2,
  maxBytes: 512 * 1024 * 1024,
  maxFrames: 100_000,
};

/** Why a link operation was refused; `unavailable`: the cluster's Redis could not be reached (nothing done, or the channel ended). */

interface Channel {
  readonly key: string;
  readonly ch: Uint8Array;
  readonly holder: Connection;
  joiner: Connection | undefined;
  readonly expiresAt: number;
  bytes: number;
  frames: number;
}

export class LinkChannels implements LinkRendezvous {
  private readonly byKey = new Map<string, Channel>();
  private readonly byConn = new Map<Connection, Set<Channel>>();

  constructor(
    private readonly limits: LinkChannelLimits,
    private readonly now: () => number,
    private readonly hooks: LinkHooks,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  open(conn: Connection, ch: Uint8Array, answer: LinkAnswer): void {
    answer(this.hold(conn, ch));
  }

  join(conn: Connection, ch: Uint8Array, answer: LinkAnswer): void {
    answer(this.meet(conn, ch));
  }

  relay(from: Connection, ch: Uint8Array, data: Uint8Array, answer: LinkAnswer): void {
    const routed = this.route(from, ch, data.length);
    if ('refused' in routed) return answer(routed.refused);
    const { to } = routed;
    answer();
    to.send({ t: 'link.data', ch, data });
    // The receiving end reads slower than this end sends: stop reading this end until it catches up.
    if (to.buffered() >= HIGH_WATER_BYTES && from.pauseReading()) {
      this.hooks.readsPaused();
      to.whenDrained(() => from.resumeReading());
    }
  }

  async close(): Promise<void> {}

  private hold(conn: Connection, ch: Uint8Array): LinkRefusal | undefined {
    this.expire();
    const key = keyOf(ch);
    const existing = this.byKey.get(key);
    if (existing) return existing.holder === conn ? undefined : 'busy';
    if (this.count(conn) >= this.limits.maxPerConnection) return 'too_many_channels';
    const channel: Channel = { key, ch: ch.slice(), holder: conn, joiner: undefined, expiresAt: this.now() + this.limits.ttlMs, bytes: 0, frames: 0 };
    this.byKey.set(key, channel);
    this.track(conn, channel);
    return undefined;
  }

  private meet(conn: Connection, ch: Uint8Array): LinkRefusal | undefined {
    this.expire();
    const channel = this.byKey.get(keyOf(ch));
    if (!channel) return 'not_found';
    if (channel.joiner === conn) return undefined;
    if (channel.holder === conn || channel.joiner) return 'busy';
    if (this.count(conn) >= this.limits.maxPerConnection) return 'too_many_channels';
    channel.joiner = conn;
    this.track(conn, channel);
    return undefined;
  }

  /** The other end of `ch` for `from`, with the data counted against the channel's budget; or why not. */
  private route(from: Connection, ch: Uint8Array, bytes: number): { readonly to: Connection } | { readonly refused: LinkRefusal } {
    const channel = this.byKey.get(keyOf(ch));
    if (!channel || (channel.holder !== from && channel.joiner !== from)) return { refused: 'not_member' };
    if (this.now() >= channel.expiresAt) {
      this.end(channel);
      return { refused: 'expired' };
    }
    const to = channel.holder === from ? channel.joiner : channel.holder;
    if (!to) return { refused: 'no_peer' };
    if (channel.bytes + bytes > this.limits.maxBytes || channel.frames + 1 > this.limits.maxFrames) return { refused: 'over_budget' };
    channel.bytes += bytes;
    channel.frames++;
    return { to };
  }

  /** A connection closed: every channel it held or joined ends, and the other ends are told. */
  drop(conn: Connection): void {
    const mine = this.byConn.get(conn);
    if (!mine) return;
    for (const channel of [...mine]) this.end(channel);
  }

  /** Ends expired channels (run on each open/join and by the relay's sweep). Returns how many ended. */
  expire(): number {
    const now = this.now();
    let ended = 0;
    for (const channel of this.byKey.values()) {
      if (now >= channel.expiresAt) {
        this.end(channel);
        ended++;
      }
    }
    return ended;
  }

  private end(channel: Channel): void {
    if (this.byKey.get(channel.key) !== channel) return;
    this.byKey.delete(channel.key);
    for (const conn of [channel.holder, channel.joiner]) {
      if (!conn) continue;
      const set = this.byConn.get(conn);
      set?.delete(channel);
      if (set?.size === 0) this.byConn.delete(conn);
      this.hooks.closed(conn, channel.ch);
    }
  }

  private count(conn: Connection): number {
    return this.byConn.get(conn)?.size ?? 0;
  }

  private track(conn: Connection, channel: Channel): void {
    let set = this.byConn.get(conn);
    if (!set) this.byConn.set(conn, (set = new Set()));
    set.add(channel);
  }
}

function keyOf(ch: Uint8Array): string {
  return Buffer.from(ch.buffer, ch.byteOffset, ch.byteLength).toString('hex');
}
