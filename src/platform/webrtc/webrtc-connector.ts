/**
 * Opens WebRTC data channels to contacts and hands them to the core's DirectTransport.
 *
 * Signaling goes through an injected `sendSignal(to, signal)`: the core encrypts each
 * signal as an `rtc` content frame through the Double Ratchet and sends it via the
 * relay, so the relay can neither read nor swap the DTLS fingerprints in the SDP.
 * Incoming (already decrypted and authenticated) signals come back through
 * `handleSignal(from, signal)`.
 *
 * Negotiation follows the "perfect negotiation" pattern (W3C WebRTC §10.x example, MDN):
 * either side may start; on an offer collision the polite side (the one with the larger
 * mailbox address, a rule both compute alike) rolls back and the impolite side ignores
 * the incoming offer. The data channel is pre-negotiated (`negotiated: true, id: 0`) on
 * both ends, so no `datachannel` event races exist. No STUN/TURN servers by default
 * (LAN and loopback need none); pass `iceServers` for the internet.
 *
 * Two rules make the pattern fit signals that can be lost (the relay drops a signal to
 * a contact who is offline and tells nobody which one) and connections that die on one
 * side first:
 * - Each connection negotiates exactly once (nothing is ever added to it). So an offer
 *   that arrives for a connection that has finished negotiating comes from a new
 *   connection of the peer's (its side of ours died, or gave up): ours is replaced, not
 *   renegotiated (a fresh DTLS fingerprint cannot be applied to a live connection).
 * - The impolite side, when it ignores a colliding offer, sends its own pending offer
 *   again. If the peer had it, the copy is recognised (same ICE credentials) and
 *   ignored; if it was lost, the polite peer now rolls back and answers. No timing guess
 *   decides which case it was.
 *
 * And one for the Worker bridge, where state is the window's last report and events come
 * a task late: a connection answering the peer's offer never offers (its late
 * `negotiationneeded` would make a second description on a connection already
 * negotiating), and only an answer is sent as an answer.
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { destinationKey } from '../../core/transport/envelope.ts';
import type { DirectTransport } from '../../core/transport/direct-transport.ts';
import type { PeerChannel } from '../../core/transport/peer-channel.ts';
import type { RtcContent } from '../../core/wire/index.ts';
import { RtcPeerChannel, type DataChannelLike } from './rtc-peer-channel.ts';

/** A signaling message as the core carries it (the `rtc` content frame without its type). */
export type RtcSignal = Omit<RtcContent, 't'>;

/** Give up on a connection attempt that has not opened its channel after this. */
export const RTC_CONNECT_TIMEOUT_MS = 15_000;
/** ICE candidates kept per peer while its description has not arrived yet (signals may overtake each other). */
export const MAX_EARLY_CANDIDATES = 32;
/** Label and id of the pre-negotiated data channel (both ends must agree). */
const CHANNEL_LABEL = 'petrel';
const CHANNEL_ID = 0;

export interface SessionDescriptionLike {
  readonly type: string;
  readonly sdp?: string;
}
export interface IceCandidateLike {
  readonly candidate?: string;
  readonly sdpMid?: string | null;
  readonly sdpMLineIndex?: number | null;
}

type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

/** The part of RTCPeerConnection used here. */
export interface PeerConnectionLike {
  readonly signalingState: string;
  readonly connectionState: string;
  readonly localDescription: SessionDescriptionLike | null;
  setLocalDescription(): Promise<void>;
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  addIceCandidate(candidate: IceCandidateLike): Promise<void>;
  createDataChannel(label: string, init: { negotiated: boolean; id: number; ordered: boolean }): DataChannelLike;
  onnegotiationneeded: Handler<unknown> | null;
  onicecandidate: Handler<{ readonly candidate: { toJSON(): IceCandidateLike } | null }> | null;
  onconnectionstatechange: Handler<unknown> | null;
  close(): void;
}
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}
export type PeerConnectionConstructor = new (config: { iceServers: IceServer[] }) => PeerConnectionLike;

export interface WebRtcConnectorOptions {
  readonly RTCPeerConnection: PeerConnectionConstructor;
  /** STUN/TURN servers for the internet; none by default (LAN and loopback need none). */
  readonly iceServers?: readonly IceServer[];
  readonly ownMailbox: Uint8Array;
  readonly transport: DirectTransport;
  sendSignal(to: Uint8Array, signal: RtcSignal): void;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  /**
   * A connection (attempt) to `peer` ended: `why` is `local`, `remote` (bye), `timeout`,
   * `failed`, `closed`, `dropped` or `superseded`; `heard` says whether the peer ever
   * answered on it (an unanswered timeout means the peer is most likely offline).
   */
  readonly onClosed?: (peer: Uint8Array, why: string, heard: boolean) => void;
  /** Wraps each opened channel before the transport gets it (the direct path's fault hooks). */
  readonly wrapChannel?: (peer: Uint8Array, channel: PeerChannel) => PeerChannel;
}

interface Session {
  readonly peer: Uint8Array;
  readonly pc: PeerConnectionLike;
  readonly polite: boolean;
  makingOffer: boolean;
  ignoreOffer: boolean;
  hasRemoteDescription: boolean;
  /** Which remote offer this connection answered (its ICE credentials), to recognise a copy. */
  answeredOffer: string | undefined;
  /** The peer answered or sent candidates for this connection. */
  heardFromPeer: boolean;
  /** Candidates that arrived before the remote description. */
  readonly earlyCandidates: IceCandidateLike[];
  cancelTimeout: (() => void) | undefined;
}

/**
 * What tells one offer from another: its ICE credentials (`a=ice-ufrag`, fresh for
 * every connection, unchanged when the offer is sent again with more candidates).
 */
export function offerIdentity(sdp: string): string {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] ?? sdp;
}

/** Lexicographic comparison of two equal-length addresses. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export class WebRtcConnector {
  private readonly sessions = new Map<string, Session>();
  /** Candidates from peers we have no session with yet (their offer is still on its way). */
  private readonly orphanCandidates = new Map<string, IceCandidateLike[]>();
  private readonly log: Logger;

  constructor(private readonly opts: WebRtcConnectorOptions) {
    this.log = opts.logger.child('webrtc');
  }

  /** Starts (or keeps) a direct connection to `peer` (a contact's mailbox address). */
  connect(peer: Uint8Array): void {
    this.session(peer);
  }

  /** Closes the connection to `peer` and tells it so. */
  disconnect(peer: Uint8Array): void {
    if (!this.sessions.has(destinationKey(peer))) return;
    this.close(peer, 'local');
    this.opts.sendSignal(peer, { kind: 'bye', data: '' });
  }

  /** True while a connection (attempt) to `peer` exists. */
  has(peer: Uint8Array): boolean {
    return this.sessions.has(destinationKey(peer));
  }

  /** Forgets the connection to `peer` without telling it (its channel already died). */
  drop(peer: Uint8Array): void {
    this.close(peer, 'dropped');
  }

  /** A decrypted, authenticated signal from `from`. Malformed input is counted and ignored. */
  async handleSignal(from: Uint8Array, signal: RtcSignal): Promise<void> {
    try {
      if (signal.kind === 'bye') return this.close(from, 'remote');
      if (signal.kind === 'ice') return await this.onIce(from, signal.data);
      return await this.onDescription(from, signal.kind, signal.data);
    } catch (err) {
      this.opts.metrics.inc('packet.validation.failure', { reason: 'rtc_signal' });
      this.log.warn('rtc signal refused', { kind: signal.kind, error: err instanceof Error ? err.message : 'unknown' });
    }
  }

  dispose(): void {
    this.orphanCandidates.clear();
    for (const s of [...this.sessions.values()]) this.close(s.peer, 'local');
  }

  private session(peer: Uint8Array): Session {
    const key = destinationKey(peer);
    const existing = this.sessions.get(key);
    if (existing) return existing;
    const pc = new this.opts.RTCPeerConnection({ iceServers: [...(this.opts.iceServers ?? [])] });
    const session: Session = {
      peer: peer.slice(),
      pc,
      polite: compareBytes(this.opts.ownMailbox, peer) > 0,
      makingOffer: false,
      ignoreOffer: false,
      hasRemoteDescription: false,
      answeredOffer: undefined,
      heardFromPeer: false,
      earlyCandidates: this.orphanCandidates.get(key) ?? [],
      cancelTimeout: undefined,
    };
    this.orphanCandidates.delete(key);
    this.sessions.set(key, session);
    pc.onnegotiationneeded = () => void this.offer(session);
    pc.onicecandidate = (ev) => {
      if (this.sessions.get(key) !== session) return;
      this.opts.sendSignal(session.peer, { kind: 'ice', data: ev.candidate ? JSON.stringify(ev.candidate.toJSON()) : '' });
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.close(session.peer, pc.connectionState);
    };
    const channel = pc.createDataChannel(CHANNEL_LABEL, { negotiated: true, id: CHANNEL_ID, ordered: true });
    channel.addEventListener('open', () => {
      if (this.sessions.get(key) !== session) return;
      session.cancelTimeout?.();
      session.cancelTimeout = undefined;
      this.log.info('direct channel open');
      const peerChannel = new RtcPeerChannel(channel);
      this.opts.transport.attach(session.peer, this.opts.wrapChannel ? this.opts.wrapChannel(session.peer, peerChannel) : peerChannel);
    });
    session.cancelTimeout = this.opts.clock.setTimeout(() => {
      this.log.info('direct connection attempt timed out');
      this.close(session.peer, 'timeout');
    }, this.opts.connectTimeoutMs ?? RTC_CONNECT_TIMEOUT_MS);
    return session;
  }

  private async offer(session: Session): Promise<void> {
    // One negotiation per connection: once the peer's description is in, or being applied
    // (`answeredOffer` is set before that starts), there is nothing to offer. The state read
    // here may be a task old (the Worker bridge reports it): the flags are what we know.
    if (session.hasRemoteDescription || session.answeredOffer !== undefined || session.pc.signalingState !== 'stable') return;
    try {
      session.makingOffer = true;
      await session.pc.setLocalDescription();
      const d = session.pc.localDescription;
      if (d) this.opts.sendSignal(session.peer, { kind: d.type === 'answer' ? 'answer' : 'offer', data: JSON.stringify({ type: d.type, sdp: d.sdp ?? '' }) });
    } catch (err) {
      this.log.warn('creating an offer failed', { error: err instanceof Error ? err.message : 'unknown' });
    } finally {
      session.makingOffer = false;
    }
  }

  private async onDescription(from: Uint8Array, kind: 'offer' | 'answer', data: string): Promise<void> {
    const parsed: unknown = JSON.parse(data);
    const sdp = (parsed as { sdp?: unknown } | null)?.sdp;
    const type = (parsed as { type?: unknown } | null)?.type;
    if (typeof sdp !== 'string' || type !== kind) throw new Error('not a session description');
    const key = destinationKey(from);
    if (kind === 'answer') {
      const session = this.sessions.get(key);
      // An answer to nothing pending (a connection we closed, or a copy): nothing to apply.
      if (!session || session.pc.signalingState !== 'have-local-offer') return;
      session.heardFromPeer = true;
      await this.applyRemote(session, kind, sdp);
      return;
    }
    const offerId = offerIdentity(sdp);
    let session = this.sessions.get(key);
    if (session && session.answeredOffer === offerId) return; // a copy of an offer already answered
    if (session && session.hasRemoteDescription && session.pc.signalingState === 'stable') {
      // This connection has negotiated, and connections never renegotiate: the peer started a new one.
      this.close(from, 'superseded');
      session = undefined;
    }
    session ??= this.session(from);
    const collision = session.makingOffer || session.pc.signalingState !== 'stable';
    session.ignoreOffer = !session.polite && collision;
    if (session.ignoreOffer) {
      this.resendOffer(session);
      return;
    }
    session.answeredOffer = offerId;
    await this.applyRemote(session, kind, sdp); // the polite side rolls back implicitly
    if (this.sessions.get(key) !== session) return; // closed or replaced meanwhile
    await session.pc.setLocalDescription();
    const d = session.pc.localDescription;
    if (this.sessions.get(key) !== session) return;
    // Only an answer goes back as one (a description of another type would be refused by the peer).
    if (d?.type !== 'answer') {
      this.opts.metrics.inc('direct.answer.not_made');
      this.log.warn('no answer made to an offer', { state: session.pc.signalingState, type: d?.type ?? null });
      return;
    }
    this.opts.sendSignal(from, { kind: 'answer', data: JSON.stringify({ type: d.type, sdp: d.sdp ?? '' }) });
  }

  private async applyRemote(session: Session, kind: 'offer' | 'answer', sdp: string): Promise<void> {
    await session.pc.setRemoteDescription({ type: kind, sdp });
    session.hasRemoteDescription = true;
    for (const c of session.earlyCandidates.splice(0)) await session.pc.addIceCandidate(c).catch(() => {});
  }

  /**
   * The impolite side ignored a colliding offer: its own pending offer may have been lost
   * (the peer was offline when it went), so it goes again, with the candidates gathered
   * since (the current local description carries them). The peer ignores a copy it had.
   */
  private resendOffer(session: Session): void {
    const d = session.pc.localDescription;
    if (session.makingOffer || session.pc.signalingState !== 'have-local-offer' || d?.type !== 'offer') return;
    this.opts.metrics.inc('direct.offer.resent');
    this.opts.sendSignal(session.peer, { kind: 'offer', data: JSON.stringify({ type: d.type, sdp: d.sdp ?? '' }) });
  }

  private async onIce(from: Uint8Array, data: string): Promise<void> {
    if (data === '') return; // end of candidates
    const parsed: unknown = JSON.parse(data);
    const candidate = (parsed as { candidate?: unknown } | null)?.candidate;
    if (typeof candidate !== 'string') throw new Error('not an ICE candidate');
    const p = parsed as { sdpMid?: unknown; sdpMLineIndex?: unknown };
    const init: IceCandidateLike = {
      candidate,
      sdpMid: typeof p.sdpMid === 'string' ? p.sdpMid : null,
      sdpMLineIndex: typeof p.sdpMLineIndex === 'number' ? p.sdpMLineIndex : null,
    };
    const key = destinationKey(from);
    const session = this.sessions.get(key);
    if (!session) {
      // The offer is still on its way: keep a few candidates for a few peers (bounded).
      const orphans = this.orphanCandidates.get(key) ?? [];
      if (orphans.length < MAX_EARLY_CANDIDATES) orphans.push(init);
      if (this.orphanCandidates.has(key) || this.orphanCandidates.size < MAX_EARLY_CANDIDATES) this.orphanCandidates.set(key, orphans);
      return;
    }
    session.heardFromPeer = true;
    if (!session.hasRemoteDescription) {
      if (session.earlyCandidates.length < MAX_EARLY_CANDIDATES) session.earlyCandidates.push(init);
      return;
    }
    try {
      await session.pc.addIceCandidate(init);
    } catch (err) {
      if (!session.ignoreOffer) throw err; // candidates of an offer we ignored are expected to fail
    }
  }

  private close(peer: Uint8Array, why: string): void {
    const key = destinationKey(peer);
    const session = this.sessions.get(key);
    if (!session) return;
    this.sessions.delete(key);
    session.cancelTimeout?.();
    this.opts.transport.detach(session.peer);
    session.pc.onnegotiationneeded = session.pc.onicecandidate = session.pc.onconnectionstatechange = null;
    session.pc.close();
    this.log.info('direct connection closed', { why });
    this.opts.onClosed?.(session.peer, why, session.heardFromPeer || session.hasRemoteDescription);
  }
}
