/**
 * The direct path as a `Transport`: envelopes over per-contact peer channels (WebRTC
 * data channels), framed with the wire module's `p2p.env` / `p2p.ack`. A send succeeds
 * only when the peer's `p2p.ack` for its id arrives, which the peer sends after its own
 * durable commit, exactly as with the relay. Incoming frames are validated by the
 * ingress guard (`checkFrame`, origin `peer`: only `p2p.*` frames are acceptable) before
 * anything else looks at them.
 */
import { bytesEqual } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { encodeFrame, isFrameFrom, isWireError, type Envelope, type Frame, type P2pBlobAckFrame, type P2pBlobFrame, type PeerFrame } from '../wire/index.ts';
import { AckBatcher } from './ack-batcher.ts';
import { destinationKey, envelopeKey } from './envelope.ts';
import { IngressGuard, type FrameCheck } from './ingress-guard.ts';
import { Listeners } from './listeners.ts';
import type { PeerChannel } from './peer-channel.ts';
import { wireFrameDecoder } from './wire-frame-decoder.ts';
import { TransportSendError, type IncomingEnvelope, type Transport, type TransportStateChange } from './transport.ts';

/** How long a direct send waits for the peer's `p2p.ack` (it includes the peer's commit). */
export const DIRECT_ACK_TIMEOUT_MS = 5_000;
/**
 * Acks on a data channel cost nothing at the relay, so they wait only long enough to
 * gather commits that finish together (the relay's 20 ms would add 20 ms to every
 * direct send: in Chromium on loopback 100 sequential sends took 22 ms each with 20 ms
 * batching and 2-3 ms each with this).
 */
export const DIRECT_ACK_BATCH_DELAY_MS = 1;

/** A frame of a file sent over the channel (docs/PROTOCOL.md §14.8): handled by the attachments, not the router. */
export type BlobFrame = P2pBlobFrame | P2pBlobAckFrame;

/** One peer's channel as a bulk (file) sender uses it beside the envelopes. */
export interface BlobLink {
  readonly isOpen: boolean;
  send(frame: BlobFrame): boolean;
  /** Bytes waiting in the channel's send buffer, where the channel can tell. */
  readonly bufferedAmount: number | undefined;
  /** Resolves once at most `threshold` bytes wait in the send buffer, or the channel closed (at once where it cannot tell). */
  drained(threshold: number): Promise<void>;
  /** Fires once, when this channel stops being the peer's (closed or replaced). */
  onGone(listener: () => void): () => void;
}

/** What a file sender and receiver need of the direct path: the channels, and the file frames that come in on them. */
export interface DirectBlobPath {
  blobLink(destination: Uint8Array): BlobLink | undefined;
  onBlobFrame(listener: (from: Uint8Array, frame: BlobFrame) => void): () => void;
  /** A channel opened or closed (`destination` = the peer's mailbox). */
  onStateChange(listener: (change: TransportStateChange) => void): () => void;
}

export interface DirectTransportDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Our own mailbox: envelopes a peer sends us must be addressed to it. */
  readonly ownMailbox: Uint8Array;
  readonly ackTimeoutMs?: number;
  /** Decodes and validates every incoming frame (the core's IngressGuard); default: a guard of its own. */
  readonly ingress?: FrameCheck<Frame>;
}

interface Link {
  readonly channel: PeerChannel;
  readonly destination: Uint8Array;
  readonly acks: AckBatcher;
  /** envelope id hex -> settle the pending send. */
  readonly pending: Map<string, { resolve(): void; reject(err: Error): void; cancelTimer(): void }>;
  readonly unsubscribe: Array<() => void>;
}

export class DirectTransport implements Transport, DirectBlobPath {
  readonly name = 'direct' as const;
  private readonly links = new Map<string, Link>();
  private readonly incoming = new Listeners<IncomingEnvelope>();
  private readonly blobFrames = new Listeners<{ readonly from: Uint8Array; readonly frame: BlobFrame }>();
  private readonly gone = new Listeners<Link>();
  private readonly states = new Listeners<TransportStateChange>();
  private readonly log: Logger;
  private readonly ingress: FrameCheck<Frame>;

  constructor(private readonly deps: DirectTransportDeps) {
    this.log = deps.logger.child('direct');
    this.ingress = deps.ingress ?? new IngressGuard({ decode: wireFrameDecoder(), metrics: deps.metrics, logger: deps.logger });
  }

  /** Uses `channel` for `destination` (replacing any earlier one) from now on. */
  attach(destination: Uint8Array, channel: PeerChannel): void {
    const key = destinationKey(destination);
    this.detach(destination);
    const link: Link = {
      channel,
      destination: destination.slice(),
      acks: new AckBatcher(this.deps.clock, (ids) => this.sendOn(channel, { t: 'p2p.ack', ids }), DIRECT_ACK_BATCH_DELAY_MS),
      pending: new Map(),
      unsubscribe: [],
    };
    this.links.set(key, link);
    link.unsubscribe.push(
      channel.onMessage((bytes) => this.onBytes(link, bytes)),
      channel.onClose(() => {
        if (this.links.get(key) === link) this.detach(destination);
      }),
    );
    this.log.info('direct channel attached');
    if (channel.isOpen) this.states.emit({ transport: 'direct', destination: link.destination, available: true });
  }

  /** Stops using the channel to `destination`; its pending sends fail as `disconnected`. */
  detach(destination: Uint8Array): void {
    const key = destinationKey(destination);
    const link = this.links.get(key);
    if (!link) return;
    this.links.delete(key);
    for (const u of link.unsubscribe) u();
    link.acks.flush();
    link.acks.dispose();
    for (const [id, p] of [...link.pending]) {
      link.pending.delete(id);
      p.cancelTimer();
      p.reject(new TransportSendError('disconnected', 'direct'));
    }
    if (link.channel.isOpen) link.channel.close();
    this.gone.emit(link);
    this.log.info('direct channel detached');
    this.states.emit({ transport: 'direct', destination: link.destination, available: false });
  }

  /** Destinations with a live channel right now (for the UI's `direct` flag). */
  connectedCount(): number {
    let n = 0;
    for (const l of this.links.values()) if (l.channel.isOpen) n++;
    return n;
  }

  isAvailable(destination: Uint8Array): boolean {
    return this.links.get(destinationKey(destination))?.channel.isOpen ?? false;
  }

  send(envelope: Envelope): Promise<void> {
    const link = this.links.get(destinationKey(envelope.to));
    if (!link || !link.channel.isOpen) return Promise.reject(new TransportSendError('unavailable', 'direct'));
    const id = envelopeKey(envelope);
    if (link.pending.has(id)) return Promise.reject(new TransportSendError('overloaded', 'direct', 'already_in_flight'));
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame({ t: 'p2p.env', env: envelope });
    } catch (err) {
      // Refused by the wire format: no retry can fix it.
      return Promise.reject(new TransportSendError('rejected', 'direct', isWireError(err) ? err.reason : 'malformed'));
    }
    return new Promise<void>((resolve, reject) => {
      const cancelTimer = this.deps.clock.setTimeout(() => {
        if (link.pending.delete(id)) reject(new TransportSendError('timeout', 'direct'));
      }, this.deps.ackTimeoutMs ?? DIRECT_ACK_TIMEOUT_MS);
      link.pending.set(id, { resolve, reject, cancelTimer });
      if (!this.sendBytesOn(link.channel, bytes)) {
        link.pending.delete(id);
        cancelTimer();
        reject(new TransportSendError('disconnected', 'direct'));
      }
    });
  }

  /** The live channel to `destination` for a file's frames, or undefined when there is none. */
  blobLink(destination: Uint8Array): BlobLink | undefined {
    const link = this.links.get(destinationKey(destination));
    if (!link || !link.channel.isOpen) return undefined;
    const { channel } = link;
    const isMine = () => this.links.get(destinationKey(destination)) === link;
    return {
      get isOpen() {
        return isMine() && channel.isOpen;
      },
      send: (frame) => isMine() && this.sendOn(channel, frame),
      get bufferedAmount() {
        return channel.bufferedAmount;
      },
      drained: (threshold) =>
        new Promise<void>((resolve) => {
          if (!channel.onBufferedAmountLow || channel.bufferedAmount === undefined || channel.bufferedAmount <= threshold || !isMine() || !channel.isOpen) {
            resolve();
            return;
          }
          const stops: Array<() => void> = [];
          const done = () => {
            for (const s of stops) s();
            resolve();
          };
          stops.push(channel.onBufferedAmountLow(threshold, done), this.gone.add((l) => l === link && done()));
        }),
      onGone: (listener) => {
        if (!isMine()) {
          listener();
          return () => {};
        }
        return this.gone.add((l) => l === link && listener());
      },
    };
  }

  /** A file's frames from the peer at `from` (its mailbox), validated by the ingress guard. */
  onBlobFrame(listener: (from: Uint8Array, frame: BlobFrame) => void): () => void {
    return this.blobFrames.add(({ from, frame }) => listener(from, frame));
  }

  onEnvelope(listener: (incoming: IncomingEnvelope) => void): () => void {
    return this.incoming.add(listener);
  }

  onStateChange(listener: (change: TransportStateChange) => void): () => void {
    return this.states.add(listener);
  }

  dispose(): void {
    for (const link of [...this.links.values()]) this.detach(link.destination);
  }

  private onBytes(link: Link, bytes: Uint8Array): void {
    // Decoded with origin `peer`: only the `p2p.*` frames pass (and are checked to be, not cast).
    const frame = this.ingress.checkFrame(bytes, 'direct');
    if (!frame) return;
    if (!isFrameFrom('peer', frame)) {
      this.deps.metrics.inc('packet.validation.failure', { reason: 'wrong_origin' });
      return;
    }
    if (frame.t === 'p2p.blob' || frame.t === 'p2p.blob.ack') {
      this.blobFrames.emit({ from: link.destination, frame });
      return;
    }
    if (frame.t === 'p2p.ack') {
      for (const id of frame.ids) {
        const key = envelopeKey({ id });
        const p = link.pending.get(key);
        if (!p) continue; // late or unknown: harmless
        link.pending.delete(key);
        p.cancelTimer();
        p.resolve();
      }
      return;
    }
    const env = frame.env;
    if (!bytesEqual(env.to, this.deps.ownMailbox)) {
      this.deps.metrics.inc('packet.validation.failure', { reason: 'wrong_destination' });
      this.log.warn('peer sent an envelope for another mailbox; dropped');
      return;
    }
    // An ack after the channel went away is dropped: the sender retries and our dedup acks the replay.
    this.incoming.emit({ envelope: env, transport: 'direct', ack: () => this.links.get(destinationKey(link.destination)) === link && link.acks.add(env.id) });
  }

  private sendOn(channel: PeerChannel, frame: PeerFrame): boolean {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame);
    } catch (err) {
      this.log.warn('frame not encodable', { t: frame.t, reason: isWireError(err) ? err.reason : 'unknown' });
      return false;
    }
    return this.sendBytesOn(channel, bytes);
  }

  private sendBytesOn(channel: PeerChannel, bytes: Uint8Array): boolean {
    if (!channel.isOpen) return false;
    try {
      channel.send(bytes);
      return true;
    } catch (err) {
      this.log.warn('frame not sent to peer', { error: err instanceof Error ? err.message : 'unknown' });
      return false;
    }
  }
}
