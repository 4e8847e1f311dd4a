/**
 * The messenger's `DirectPath` over WebRTC: a `DirectTransport` (envelopes and acks on
 * data channels) fed by a `WebRtcConnector` (perfect negotiation, signaling through the
 * messenger's end-to-end encrypted `rtc` frames on the relay's `signal` route).
 *
 * A channel is per device (docs/PROTOCOL.md §13.5): each peer here is one device of a
 * contact, addressed by its mailbox (the account mailbox for a single-device contact), and
 * has its own connection, retries and `silent` mark; its signals are encrypted with that
 * device's session.
 *
 * It also owns the retry policy. An offer to a contact who is offline is simply lost
 * (the relay answers `not_found`), and every lost signal leaves a gap the contact's
 * ratchet must later skip (bounded by MAX_SKIP), so attempts are event-driven and
 * bounded: the messenger asks for a connection when something happens (we came online,
 * a session started: `connect`; the contact wrote to us: `contactActive`). An attempt
 * the contact never answered marks it silent: no more offers to it until it shows
 * life (a message or a signal from it), when the contact itself offers on coming online.
 * A failed attempt that was answered, or a channel that dies, is retried with
 * full-jitter backoff at most `MAX_DIRECT_ATTEMPTS` times in a row.
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { DirectChannelView, DirectPath, DirectPeer } from '../../core/messenger/direct-path.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { Random } from '../../core/random.ts';
import { Backoff, type BackoffPolicy } from '../../core/transport/backoff.ts';
import { DirectTransport } from '../../core/transport/direct-transport.ts';
import { destinationKey } from '../../core/transport/envelope.ts';
import type { FrameCheck } from '../../core/transport/ingress-guard.ts';
import { Listeners } from '../../core/transport/listeners.ts';
import type { NetworkSignals } from '../../core/transport/network-signals.ts';
import { mailboxAddress, type Frame } from '../../core/wire/index.ts';
import { SeverableChannel } from './severable-channel.ts';
import { WebRtcConnector, type IceServer, type PeerConnectionConstructor, type RtcSignal } from './webrtc-connector.ts';

/** Delay window between automatic attempts to (re)open a channel to one device. */
export const DIRECT_RETRY_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000 };
/** Automatic attempts in a row per device before waiting for the next event. */
export const MAX_DIRECT_ATTEMPTS = 5;

export type SignalKind = RtcSignal['kind'];

export interface WebRtcDirectPathOptions {
  readonly RTCPeerConnection: PeerConnectionConstructor;
  /** STUN/TURN servers for the internet; none by default (LAN and loopback need none). */
  readonly iceServers?: readonly IceServer[];
  readonly identityKey: Uint8Array;
  /**
   * This device's mailbox as its contacts address it: its device mailbox while our list
   * names it, else the account mailbox (the default). Both ends of a channel compare the
   * two addresses to agree on who is polite.
   */
  readonly ownMailbox?: Uint8Array;
  /** Encrypts and sends one signal to one device of a contact (the messenger's RtcSignalSender). */
  sendSignal(peer: DirectPeer, kind: SignalKind, data: string): Promise<void>;
  readonly clock: Clock;
  readonly random: Random;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  readonly retryBackoff?: BackoffPolicy;
  readonly maxAttempts?: number;
  /** How long a direct send waits for the peer's ack (the transport's default otherwise). */
  readonly ackTimeoutMs?: number;
  /** Decodes and validates every incoming frame (the core's IngressGuard; see DirectTransport). */
  readonly ingress?: FrameCheck<Frame>;
  /**
   * While the device says it is offline the direct path is down too, as the app says
   * (it shows "Offline" and queues): loopback and LAN channels would otherwise keep
   * working behind that message.
   */
  readonly network?: NetworkSignals;
}

interface Peer {
  readonly id: DirectPeer;
  readonly mailbox: Uint8Array;
  readonly backoff: Backoff;
  open: boolean;
  /** Our last offer went unanswered: wait for a sign of life before offering again. */
  silent: boolean;
  /** The channel opened since the last attempt ended (a dying live channel starts a fresh series). */
  openedThisAttempt: boolean;
  cancelRetry: (() => void) | undefined;
}

export class WebRtcDirectPath implements DirectPath {
  readonly transport: DirectTransport;
  /** Files travel on the transport's channels (§14.8). */
  get blobs(): DirectTransport {
    return this.transport;
  }
  private readonly connector: WebRtcConnector;
  private readonly peers = new Map<string, Peer>();
  private readonly changes = new Listeners<void>();
  private readonly log: Logger;
  private paused = false;
  /** The sever/heal hook: the network to every peer is gone (see `sever`). */
  private severed = false;
  /** The live channel to each peer (by destination key), for the fault hooks. */
  private readonly live = new Map<string, SeverableChannel>();
  private offline = false;
  private closed = false;
  private readonly unsubscribeNetwork: () => void;

  constructor(private readonly opts: WebRtcDirectPathOptions) {
    this.log = opts.logger.child('direct-path');
    const ownMailbox = opts.ownMailbox ?? mailboxAddress(opts.identityKey);
    this.transport = new DirectTransport({
      clock: opts.clock,
      metrics: opts.metrics,
      logger: opts.logger,
      ownMailbox,
      ...(opts.ackTimeoutMs !== undefined ? { ackTimeoutMs: opts.ackTimeoutMs } : {}),
      ...(opts.ingress ? { ingress: opts.ingress } : {}),
    });
    this.connector = new WebRtcConnector({
      RTCPeerConnection: opts.RTCPeerConnection,
      ...(opts.iceServers ? { iceServers: opts.iceServers } : {}),
      ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
      ownMailbox,
      transport: this.transport,
      sendSignal: (to, signal) => this.sendSignal(to, signal),
      onClosed: (peer, why, heard) => this.onClosed(peer, why, heard),
      wrapChannel: (peer, channel) => {
        const wrapped = new SeverableChannel(channel, () => this.severed);
        this.live.set(destinationKey(peer), wrapped);
        return wrapped;
      },
      clock: opts.clock,
      metrics: opts.metrics,
      logger: opts.logger,
    });
    this.transport.onStateChange((change) => change.destination && this.onAvailability(change.destination, change.available));
    this.offline = opts.network ? !opts.network.isOnline() : false;
    this.unsubscribeNetwork =
      opts.network?.subscribe((signal) => {
        if (signal === 'offline' && !this.offline) {
          this.offline = true;
          this.stopAll();
        } else if (signal === 'online') this.offline = false;
      }) ?? (() => {});
  }

  connect(id: DirectPeer, mailbox: Uint8Array): void {
    if (this.blocked) return;
    const peer = this.remember(id, mailbox);
    if (!peer.silent) this.start(peer);
  }

  contactActive(id: DirectPeer, mailbox: Uint8Array): void {
    if (this.blocked) return;
    const peer = this.remember(id, mailbox);
    peer.silent = false;
    this.start(peer);
  }

  handleSignal(id: DirectPeer, mailbox: Uint8Array, kind: SignalKind, data: string): void {
    if (this.blocked) return;
    const peer = this.remember(id, mailbox);
    peer.silent = false;
    // The peer is online and talking to us: a pending retry would only collide with it.
    peer.cancelRetry?.();
    peer.cancelRetry = undefined;
    void this.connector.handleSignal(mailbox, { kind, data });
  }

  openChannels(): readonly DirectPeer[] {
    const out: DirectPeer[] = [];
    for (const p of this.peers.values()) if (p.open && this.transport.isAvailable(p.mailbox)) out.push(p.id);
    return out;
  }

  channels(): readonly DirectChannelView[] {
    return [...this.peers.values()].map((p) => ({
      ...p.id,
      state:
        p.open && this.transport.isAvailable(p.mailbox)
          ? 'open'
          : this.connector.has(p.mailbox)
            ? 'connecting'
            : p.cancelRetry
              ? 'retrying'
              : p.silent
                ? 'silent'
                : 'idle',
    }));
  }

  onChange(listener: () => void): () => void {
    return this.changes.add(listener);
  }

  /**
   * Closes every channel and refuses new ones until `resume` (a debugging and test hook:
   * the conversation must carry on over the relay).
   */
  pause(): void {
    this.paused = true;
    this.stopAll();
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * Closes every open data channel as a network failure would (a debugging and test
   * hook): in-flight sends fail over, and the usual retries open new channels.
   */
  dropChannels(): void {
    for (const p of this.peers.values()) if (p.open) this.transport.detach(p.mailbox);
  }

  /**
   * The network between this device and its peers fails (a debugging and test hook)
   * until `heal`: messages on open channels are lost in both directions while the
   * channels still look open (so sends time out and count against the direct breaker),
   * and no connection is started or answered. A channel that closes meanwhile stays
   * closed.
   */
  sever(): void {
    this.severed = true;
    for (const p of this.peers.values()) {
      p.cancelRetry?.();
      p.cancelRetry = undefined;
    }
  }

  /**
   * Ends `sever`. Channels that stayed open carry messages again; closed ones come back
   * the usual way, on the next event (the contact writes to us, we come online).
   */
  heal(): void {
    this.severed = false;
  }

  /**
   * Sends `bytes` as they are on every open channel (a test hook for hostile input: the
   * peer must refuse what does not validate). Returns how many channels it went to.
   */
  inject(bytes: Uint8Array): number {
    let sent = 0;
    for (const p of this.peers.values()) {
      const channel = this.live.get(destinationKey(p.mailbox));
      if (!p.open || !channel?.isOpen) continue;
      channel.inject(bytes);
      sent++;
    }
    return sent;
  }

  close(): void {
    this.closed = true;
    this.unsubscribeNetwork();
    this.stopAll();
    this.transport.dispose();
  }

  private get blocked(): boolean {
    return this.closed || this.paused || this.offline || this.severed;
  }

  private stopAll(): void {
    for (const p of this.peers.values()) {
      p.cancelRetry?.();
      p.cancelRetry = undefined;
    }
    this.connector.dispose();
  }

  private start(peer: Peer): void {
    if (peer.open || peer.cancelRetry || this.connector.has(peer.mailbox)) return;
    peer.backoff.reset();
    this.connector.connect(peer.mailbox);
  }

  private remember(id: DirectPeer, mailbox: Uint8Array): Peer {
    const key = destinationKey(mailbox);
    let peer = this.peers.get(key);
    if (!peer || peer.id.contactId !== id.contactId || peer.id.device !== id.device) {
      peer = {
        id: { contactId: id.contactId, ...(id.device !== undefined ? { device: id.device } : {}) },
        mailbox: mailbox.slice(),
        backoff: new Backoff(this.opts.retryBackoff ?? DIRECT_RETRY_BACKOFF, this.opts.random),
        open: false,
        silent: false,
        openedThisAttempt: false,
        cancelRetry: undefined,
      };
      this.peers.set(key, peer);
    }
    return peer;
  }

  private sendSignal(to: Uint8Array, signal: RtcSignal): void {
    const peer = this.peers.get(destinationKey(to));
    // "End of candidates" tells the peer nothing it acts on; each signal costs a ratchet step.
    if (!peer || (signal.kind === 'ice' && signal.data === '')) return;
    this.opts.sendSignal(peer.id, signal.kind, signal.data).catch((err: unknown) => {
      this.log.info('signal not sent', { kind: signal.kind, error: err instanceof Error ? err.message : 'unknown' });
    });
  }

  private onAvailability(destination: Uint8Array, available: boolean): void {
    const peer = this.peers.get(destinationKey(destination));
    if (!peer || peer.open === available) return;
    peer.open = available;
    if (available) {
      peer.openedThisAttempt = true;
      peer.backoff.reset();
      this.opts.metrics.inc('direct.opened');
    } else {
      // The channel died under a live connection: forget it so a retry negotiates anew.
      this.connector.drop(peer.mailbox);
    }
    this.changes.emit();
  }

  private onClosed(mailbox: Uint8Array, why: string, heard: boolean): void {
    const peer = this.peers.get(destinationKey(mailbox));
    // `local`: we closed it on purpose; `remote`: the peer said bye; `superseded`: a fresh offer replaced it.
    if (!peer || this.blocked || why === 'local' || why === 'remote' || why === 'superseded') return;
    if (peer.openedThisAttempt) peer.backoff.reset();
    peer.openedThisAttempt = false;
    if (!heard) {
      peer.silent = true;
      this.log.info('direct offer unanswered; waiting for the contact to show up', { why });
      return;
    }
    if (peer.backoff.attempts >= (this.opts.maxAttempts ?? MAX_DIRECT_ATTEMPTS)) {
      this.log.info('direct connection not retried until the next event', { why });
      return;
    }
    const delay = peer.backoff.next();
    peer.cancelRetry?.();
    peer.cancelRetry = this.opts.clock.setTimeout(() => {
      peer.cancelRetry = undefined;
      if (this.blocked || peer.open || this.connector.has(peer.mailbox)) return;
      this.connector.connect(peer.mailbox);
    }, delay);
  }
}
