import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ClusterMetrics } from '../cluster/cluster-metrics.ts';
import { HIGH_WATER_BYTES, type Connection } from '../ws/connection.ts';
import type { LinkChannelLimits } from './link-channels.ts';
import type { LinkRefusal } from './link-rendezvous.ts';
import { decodeLinkNotice, encodeLinkNotice, otherRole, type LinkNotice, type LinkRole } from './link-notice.ts';
import type { LinkAnswer, LinkHooks, LinkRendezvous } from './link-rendezvous.ts';

export interface RedisLinkChannelsOptions extends LinkHooks {
  /** Commands; shared with fan-out and the rate-limit store. */
  readonly redis: Redis;
  /** Prefix of every key and channel (as for RedisFanout). */
  readonly prefix: string;
  /** This process's random id: with a connection's id it names an end in Redis. */
  readonly nodeId: string;
  readonly limits: LinkChannelLimits;
  readonly now: () => number;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
}

/** One end of a channel that is on this node. */
interface End {
  readonly hex: string;
  readonly ch: Uint8Array;
  readonly conn: Connection;
  readonly role: LinkRole;
  /** Names this end in the channel's Redis hash: node id and connection id. */
  readonly member: string;
  /** Opening or joining in Redis: notices wait in `queued` until it is answered. */
  pending: boolean;
  queued: LinkNotice[];
  expiresAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Removed from this node (its connection closed, the channel ended, Redis was lost) while pending. */
  gone: boolean;
  /** Bytes this end sent that its peer's connection has not yet taken (flow control). */
  unacked: number;
  /** This end's reading is stopped until its peer takes more (`unacked` reached SEND_WINDOW_BYTES). */
  windowClosed: boolean;
  /** Bytes of its peer's data this end's connection was given and the peer was not yet told of. */
  owed: number;
  /** An `ack` waits for this end's connection to drain. */
  ackWaiting: boolean;
}

// The channel's state: one hash per channel, `h` the holder, `j` the joiner (node.conn),
// `b` and `f` the bytes and frames it carried; it expires ttlMs after the open.
const OPEN = `
local h = redis.call('HGET', KEYS[1], 'h')
if h then
  if h == ARGV[1] then return redis.call('PTTL', KEYS[1]) end
  return -1
end
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'b', 0, 'f', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tonumber(ARGV[2])`;

const JOIN = `
local v = redis.call('HMGET', KEYS[1], 'h', 'j')
if not v[1] then return -2 end
if v[2] == ARGV[1] then return redis.call('PTTL', KEYS[1]) end
if v[1] == ARGV[1] or v[2] then return -1 end
redis.call('HSET', KEYS[1], 'j', ARGV[1])
return redis.call('PTTL', KEYS[1])`;

// Counts the data against the whole channel's budget and publishes it, in one step: the
// frames of one end reach the other in the order this node ran them.
const DATA = `
local v = redis.call('HMGET', KEYS[1], 'h', 'j', 'b', 'f')
if not v[1] then return 'gone' end
if v[1] ~= ARGV[1] and v[2] ~= ARGV[1] then return 'not_member' end
if not v[2] then return 'no_peer' end
if tonumber(v[3]) + tonumber(ARGV[2]) > tonumber(ARGV[3]) or tonumber(v[4]) + 1 > tonumber(ARGV[4]) then return 'over_budget' end
redis.call('HINCRBY', KEYS[1], 'b', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'f', 1)
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 'ok'`;

// An end leaves: the channel is removed and the other end told, if the channel is still
// one this end is in (never someone else's channel of the same id, nor one already gone).
const CLOSE = `
local v = redis.call('HMGET', KEYS[1], 'h', 'j')
if v[1] ~= ARGV[1] and v[2] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

/**
 * Flow control between the two ends' nodes (the single relay stops reading a sender as
 * soon as its peer's output passes HIGH_WATER_BYTES; across nodes that output is not
 * visible): a node stops reading an end once this many of its bytes were relayed and not
 * yet taken by the peer's connection, which is told in acks of at least ACK_EVERY_BYTES.
 * So a peer's node holds at most about this much for a slow reader, as a single relay does
 * (below the default slow-consumer cap, PETREL_MAX_BUFFERED_BYTES of 4 MiB).
 */
const SEND_WINDOW_BYTES = HIGH_WATER_BYTES;
const ACK_EVERY_BYTES = SEND_WINDOW_BYTES / 4;

/** How long an open or join waits for the subscription connection (starting, or reconnecting) before it is refused. */
const SUBSCRIBER_WAIT_MS = 1000;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Link channels across the nodes of a cluster (docs/PROTOCOL.md §13.6, SCALING.md): the
 * channel lives in Redis (who holds it, who joined, what it carried, its expiry), and each
 * end's node subscribes to the channel's pub/sub channel and delivers to its own end.
 * The guarantees are the single relay's: one holder, at most one joiner, the byte and
 * frame budget of the channel as a whole (counted in Redis by the script that publishes
 * the data), the channel's expiry, and the end of the channel (`link.closed` to the other
 * end) when either connection closes. A node that dies without closing its ends leaves
 * the channel to expire: the other end is told then.
 *
 * Redis unreachable: opening and joining are refused `unavailable`; a channel that cannot
 * relay a frame, or whose node lost its subscription (notices may have been lost), ends,
 * so a link never continues with a gap. The relay never waits on Redis past the command
 * timeout of the shared connection.
 */
export class RedisLinkChannels implements LinkRendezvous {
  private readonly sub: Redis;
  /** Ends on this node, by `${hex}/${role}`. */
  private readonly ends = new Map<string, End>();
  private readonly byConn = new Map<Connection, Set<End>>();
  /** Channels (hex) this node listens on, how many of its ends use each, and the SUBSCRIBE. */
  private readonly subscriptions = new Map<string, { count: number; ready: Promise<void> | undefined }>();

  constructor(private readonly o: RedisLinkChannelsOptions) {
    this.sub = o.redis.duplicate({ autoResubscribe: false, enableOfflineQueue: false, lazyConnect: true });
    this.sub.on('messageBuffer', (channel: Buffer, msg: Buffer) => this.onMessage(channel, msg));
    this.sub.on('close', () => this.onSubscriberLost());
    this.sub.on('error', (err: Error) => o.log.debug({ err: err.message }, 'redis link subscriber error'));
    this.sub.connect().catch((err: unknown) => o.log.warn({ err: message(err) }, 'redis link subscriber not connected yet'));
  }

  get size(): number {
    return this.subscriptions.size;
  }

  private key(hex: string): string {
    return `${this.o.prefix}link:${hex}`;
  }

  private eventChannel(hex: string): string {
    return `${this.o.prefix}linkev:${hex}`;
  }

  open(conn: Connection, ch: Uint8Array, answer: LinkAnswer): void {
    this.enter(conn, ch, 'holder', answer);
  }

  join(conn: Connection, ch: Uint8Array, answer: LinkAnswer): void {
    this.enter(conn, ch, 'joiner', answer);
  }

  /** `conn` takes `role` in channel `ch`: done at once when it already holds it, refused when this node has that end or the other one for it. */
  private enter(conn: Connection, ch: Uint8Array, role: LinkRole, answer: LinkAnswer): void {
    this.expire();
    const hex = hexOf(ch);
    const mine = this.ends.get(`${hex}/${role}`);
    if (mine) return answer(mine.conn === conn && !mine.pending ? undefined : 'busy');
    if (this.ends.get(`${hex}/${role === 'holder' ? 'joiner' : 'holder'}`)?.conn === conn) return answer('busy');
    this.start(conn, ch, role, answer);
  }

  /** Opens or joins in Redis, with the end listening (and its notices waiting) before the script runs. */
  private start(conn: Connection, ch: Uint8Array, role: LinkRole, answer: LinkAnswer): void {
    if ((this.byConn.get(conn)?.size ?? 0) >= this.o.limits.maxPerConnection) return answer('too_many_channels');
    const hex = hexOf(ch);
    const end: End = { hex, ch: ch.slice(), conn, role, member: `${this.o.nodeId}.${conn.id}`, pending: true, queued: [], expiresAt: Infinity, timer: undefined, gone: false, unacked: 0, windowClosed: false, owed: 0, ackWaiting: false };
    this.add(end);
    this.settle(end, answer).catch((err: unknown) => this.failed(err));
  }

  private async settle(end: End, answer: LinkAnswer): Promise<void> {
    let ttl: number;
    try {
      await this.subscriberReady();
      await this.listen(end.hex);
      const result =
        end.role === 'holder'
          ? await this.o.redis.eval(OPEN, 1, this.key(end.hex), end.member, this.o.limits.ttlMs)
          : await this.o.redis.eval(JOIN, 1, this.key(end.hex), end.member);
      ttl = Number(result);
    } catch (err) {
      this.o.log.warn({ err: message(err) }, 'link channel not opened or joined: redis unavailable');
      this.remove(end);
      // The script may have run before the reply was lost: free the channel for a retry.
      this.leave(end);
      return answer('unavailable');
    }
    if (ttl === -1 || ttl === -2) {
      this.remove(end);
      return answer(ttl === -1 ? 'busy' : 'not_found');
    }
    if (end.gone) {
      // The connection closed, or the subscription was lost, while Redis answered.
      this.leave(end);
      return answer('unavailable');
    }
    end.pending = false;
    end.expiresAt = this.o.now() + Math.max(ttl, 0);
    end.timer = setTimeout(() => this.expire(), Math.max(ttl, 0) + 1);
    end.timer.unref();
    answer();
    for (const notice of end.queued.splice(0)) this.deliver(end, notice);
  }

  relay(from: Connection, ch: Uint8Array, data: Uint8Array, answer: LinkAnswer): void {
    const end = this.endOf(from, hexOf(ch));
    if (!end || end.pending) return answer('not_member');
    if (this.o.now() >= end.expiresAt) {
      this.end(end);
      return answer('expired');
    }
    const notice = encodeLinkNotice({ kind: 'data', from: end.role, data });
    const { maxBytes, maxFrames } = this.o.limits;
    // Counted before Redis answers: what this node read may be on its way to the peer.
    end.unacked += data.length;
    if (end.unacked >= SEND_WINDOW_BYTES && !end.windowClosed && from.pauseReading()) {
      end.windowClosed = true;
      this.o.readsPaused();
    }
    this.o.redis.eval(DATA, 1, this.key(end.hex), end.member, data.length, maxBytes, maxFrames, this.eventChannel(end.hex), notice).then(
      (result) => {
        if (result === 'ok') {
          this.o.metrics.published.inc({ kind: 'link_data' });
          return answer();
        }
        this.acked(end, data.length);
        // The channel is gone from Redis (ended elsewhere, or expired there first): end it here too.
        if (result === 'gone') {
          this.end(end);
          return answer('not_member');
        }
        answer(isRefusal(result) ? result : 'unavailable');
      },
      (err: unknown) => {
        this.o.metrics.publishFailures.inc();
        this.o.log.warn({ err: message(err) }, 'link data not relayed: redis unavailable; the channel ends');
        // The frame may or may not have reached the other end: the link cannot go on with a gap.
        this.end(end);
        answer('unavailable');
      },
    ).catch((err: unknown) => this.failed(err));
  }

  /** A callback threw after Redis answered: logged, never an unhandled rejection that would end the process. */
  private failed(err: unknown): void {
    this.o.log.error({ err: message(err) }, 'link channel answer failed');
  }

  drop(conn: Connection): void {
    const mine = this.byConn.get(conn);
    if (!mine) return;
    for (const end of [...mine]) {
      this.remove(end);
      if (end.pending) continue; // settle() frees it in Redis once its script answered
      this.o.closed(end.conn, end.ch); // counted as on one relay (the closed connection is sent nothing)
      this.leave(end);
    }
  }

  expire(): number {
    const now = this.o.now();
    let ended = 0;
    for (const end of [...this.ends.values()]) {
      if (end.pending || now < end.expiresAt) continue;
      this.end(end);
      ended++;
    }
    return ended;
  }

  async close(): Promise<void> {
    for (const end of [...this.ends.values()]) this.remove(end);
    await this.sub.quit().catch(() => this.sub.disconnect());
  }

  /** Ends the channel at this end: its connection is told, and the other end (wherever it is) through Redis. */
  private end(end: End): void {
    if (!this.remove(end)) return;
    this.o.closed(end.conn, end.ch);
    this.leave(end);
  }

  /** Removes the channel from Redis if this end is still in it, and tells the other end. Best effort: else it expires. */
  private leave(end: End): void {
    const notice = encodeLinkNotice({ kind: 'closed', from: end.role });
    this.o.redis.eval(CLOSE, 1, this.key(end.hex), end.member, this.eventChannel(end.hex), notice).then(
      () => this.o.metrics.published.inc({ kind: 'link_closed' }),
      (err: unknown) => {
        this.o.metrics.publishFailures.inc();
        this.o.log.warn({ err: message(err) }, 'link channel end not announced; the other end is told when it expires');
      },
    );
  }

  private onMessage(channel: Buffer, msg: Buffer): void {
    // Never throws: an exception here would escape into ioredis and end the process.
    try {
      const name = channel.toString('latin1');
      const hex = name.slice(this.eventChannel('').length);
      let notice: LinkNotice;
      try {
        notice = decodeLinkNotice(msg);
      } catch (err) {
        this.o.log.warn({ err: message(err) }, 'ignored a malformed link notice');
        return;
      }
      this.o.metrics.received.inc({ kind: `link_${notice.kind}` });
      // A notice is for the end of the other role (an ack: for the sender whose bytes were taken).
      const to = this.ends.get(`${hex}/${otherRole(notice.from)}`);
      if (!to) return;
      if (to.pending) to.queued.push(notice);
      else this.deliver(to, notice);
    } catch (err) {
      this.o.log.error({ err: message(err) }, 'link notice handling failed');
    }
  }

  private deliver(to: End, notice: LinkNotice): void {
    if (this.ends.get(`${to.hex}/${to.role}`) !== to) return;
    switch (notice.kind) {
      case 'data':
        to.conn.send({ t: 'link.data', ch: to.ch, data: notice.data });
        to.owed += notice.data.length;
        // The peer learns what this connection took once it drained: a slow reader holds the sender back.
        if (to.owed >= ACK_EVERY_BYTES && !to.ackWaiting) {
          to.ackWaiting = true;
          to.conn.whenDrained(() => {
            to.ackWaiting = false;
            if (this.ends.get(`${to.hex}/${to.role}`) !== to) return;
            const bytes = Math.min(to.owed, 0xffffffff);
            to.owed -= bytes;
            this.publish(to.hex, { kind: 'ack', from: to.role, bytes });
          });
        }
        return;
      case 'ack':
        this.acked(to, notice.bytes);
        return;
      case 'closed':
        if (this.remove(to)) this.o.closed(to.conn, to.ch);
        return;
    }
  }

  /** The peer took `bytes` of what `end` sent (or they were refused): `end` may be read again below the window. */
  private acked(end: End, bytes: number): void {
    end.unacked = Math.max(0, end.unacked - bytes);
    if (end.windowClosed && end.unacked < SEND_WINDOW_BYTES) {
      end.windowClosed = false;
      end.conn.resumeReading();
    }
  }

  private publish(hex: string, notice: LinkNotice): void {
    this.o.redis.publish(this.eventChannel(hex), encodeLinkNotice(notice)).then(
      () => this.o.metrics.published.inc({ kind: `link_${notice.kind}` }),
      () => this.o.metrics.publishFailures.inc(),
    );
  }

  /** Notices on this channel may have been lost: every channel with an end here ends (its ends told). */
  private onSubscriberLost(): void {
    for (const end of [...this.ends.values()]) {
      if (end.pending) {
        this.remove(end);
        continue;
      }
      this.end(end);
    }
    this.subscriptions.clear();
  }

  /** Resolves once the subscription connection is ready (at once if it is); rejects after SUBSCRIBER_WAIT_MS. */
  private subscriberReady(): Promise<void> {
    if (this.sub.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.sub.off('ready', ready);
        reject(new Error(`redis subscriber ${this.sub.status}`));
      }, SUBSCRIBER_WAIT_MS);
      timer.unref();
      this.sub.once('ready', ready);
    });
  }

  /** Listens on the channel of `hex` (once for all of this node's ends on it). */
  private async listen(hex: string): Promise<void> {
    const subscription = this.subscriptions.get(hex);
    if (!subscription) throw new Error('the end left before it was listening');
    if (!subscription.ready) {
      subscription.ready = this.sub.subscribe(this.eventChannel(hex)).then(() => {});
      subscription.ready.catch(() => {}); // awaited by each end that asked; a late failure must not go unhandled
    }
    await subscription.ready;
  }

  private endOf(conn: Connection, hex: string): End | undefined {
    for (const role of ['holder', 'joiner'] as const) {
      const end = this.ends.get(`${hex}/${role}`);
      if (end?.conn === conn) return end;
    }
    return undefined;
  }

  private add(end: End): void {
    this.ends.set(`${end.hex}/${end.role}`, end);
    let set = this.byConn.get(end.conn);
    if (!set) this.byConn.set(end.conn, (set = new Set()));
    set.add(end);
    const subscription = this.subscriptions.get(end.hex);
    if (subscription) subscription.count++;
    else this.subscriptions.set(end.hex, { count: 1, ready: undefined });
  }

  /** Forgets an end on this node; false if it was not here any more. */
  private remove(end: End): boolean {
    const k = `${end.hex}/${end.role}`;
    if (this.ends.get(k) !== end) return false;
    this.ends.delete(k);
    end.gone = true;
    clearTimeout(end.timer);
    if (end.windowClosed) end.conn.resumeReading();
    const set = this.byConn.get(end.conn);
    set?.delete(end);
    if (set?.size === 0) this.byConn.delete(end.conn);
    const subscription = this.subscriptions.get(end.hex);
    if (subscription && --subscription.count === 0) {
      this.subscriptions.delete(end.hex);
      if (subscription.ready && this.sub.status === 'ready') this.sub.unsubscribe(this.eventChannel(end.hex)).catch(() => {});
    }
    return true;
  }
}

function hexOf(ch: Uint8Array): string {
  return Buffer.from(ch.buffer, ch.byteOffset, ch.byteLength).toString('hex');
}

const REFUSALS: readonly string[] = ['not_member', 'no_peer', 'over_budget'] satisfies LinkRefusal[];
const isRefusal = (r: unknown): r is LinkRefusal => typeof r === 'string' && REFUSALS.includes(r);
