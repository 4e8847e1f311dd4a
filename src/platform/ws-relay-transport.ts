/**
 * The relay as a `Transport`: one authenticated WebSocket to the relay's mailbox
 * service (browser adapter; written against an injected WebSocket constructor so the
 * same code runs in Node tests with the `ws` client).
 *
 * connect → `challenge{nonce}` → `auth{ik, sig}` (signing injected, the identity stays
 * in the core), or `auth.device{cert, sig}` for one device of a multi-device account
 * (docs/PROTOCOL.md §13.4) → `ready` → online. Sends resolve on `sent{rid}` (the envelope is on the
 * relay's disk), reject on `error{rid}` or a timeout. `deliver{env}` pushes go to the
 * core with an `ack` it calls only after its durable commit; acks are batched. An
 * app-level heartbeat (`ping`/`pong`) notices dead links; a missed pong closes the
 * socket. Reconnects use exponential backoff with full jitter, reset after `ready`.
 * While the browser says offline it does not try; `online`, visibility and page show
 * resume it at once.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Random } from '../core/random.ts';
import { Backoff, RECONNECT_BACKOFF, type BackoffPolicy } from '../core/transport/backoff.ts';
import { AckBatcher } from '../core/transport/ack-batcher.ts';
import { IngressGuard, type FrameCheck } from '../core/transport/ingress-guard.ts';
import { MailboxCatchUp } from '../core/transport/mailbox-catch-up.ts';
import { Listeners } from '../core/transport/listeners.ts';
import { alwaysOnline, type NetworkSignal, type NetworkSignals } from '../core/transport/network-signals.ts';
import { PendingRequests } from '../core/transport/pending-requests.ts';
import { RELAY_SEND_PACE, SendPacer, type PacePolicy } from '../core/transport/send-pacer.ts';
import type { RelayConnectionState } from '../core/transport/relay-connection-state.ts';
import { wireFrameDecoder } from '../core/transport/wire-frame-decoder.ts';
import { TransportSendError, type IncomingEnvelope, type SendOptions, type Transport, type TransportFailureKind, type TransportStateChange } from '../core/transport/transport.ts';
import type { PushSubscriptionKeys } from '../core/messenger/push-registration.ts';
import {
  authPayload,
  deviceAuthPayload,
  encodeFrame,
  isFrameFrom,
  isWireError,
  type ClientFrame,
  type Envelope,
  type ErrorCode,
  type ErrorFrame,
  type FetchedBundle,
  type DeviceCertificate,
  type Frame,
  type PublishedBundle,
  type SignedDeviceList,
  type RelayFrame,
} from '../core/wire/index.ts';

export { alwaysOnline, type NetworkSignal, type NetworkSignals };

// ---- configuration ------------------------------------------------------------------

export interface WsRelayConfig {
  /** From socket creation to `ready`; a relay that does not finish the handshake is dropped. */
  readonly handshakeTimeoutMs: number;
  /** How long a `send` waits for `sent{rid}`. */
  readonly sendTimeoutMs: number;
  /** How long a prekey request waits for its answer. */
  readonly requestTimeoutMs: number;
  /** Time between heartbeats while online. */
  readonly heartbeatIntervalMs: number;
  /** A heartbeat unanswered after this closes the socket. */
  readonly pongTimeoutMs: number;
  readonly reconnect: BackoffPolicy;
  /** Rate, burst and in-flight cap for sends and requests on the link. */
  readonly pace: PacePolicy;
}

export const DEFAULT_WS_RELAY_CONFIG: WsRelayConfig = {
  handshakeTimeoutMs: 10_000,
  sendTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  heartbeatIntervalMs: 20_000,
  pongTimeoutMs: 5_000,
  reconnect: RECONNECT_BACKOFF,
  pace: RELAY_SEND_PACE,
};

/** Close code when the client gives up on a link (missed pong, handshake timeout, protocol error). */
export const CLOSE_CODE_CLIENT_GAVE_UP = 4000;
/** The relay's close code for policy (an unlinked device is closed with it and the reason "device unlinked"). */
const RELAY_CLOSE_POLICY = 1008;
/** Close code when the client stops or the browser goes offline. */
const CLOSE_CODE_NORMAL = 1000;

// ---- injected environment -------------------------------------------------------------

/**
 * An event handler property type checked bivariantly (method-style), so both the DOM's
 * `(this: WebSocket, ev: MessageEvent) => any` and ws's handler types fit it.
 */
type SocketHandler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

/** The part of the WebSocket API used here; the browser's and the `ws` package's clients both have it. */
export interface RelaySocket {
  binaryType: string;
  readonly readyState: number;
  onopen: SocketHandler<unknown> | null;
  onmessage: SocketHandler<{ readonly data: unknown }> | null;
  onclose: SocketHandler<{ readonly code: number; readonly reason?: string }> | null;
  onerror: SocketHandler<unknown> | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}
export type RelaySocketConstructor = new (url: string) => RelaySocket;

const SOCKET_OPEN = 1;


export interface WsRelayTransportOptions {
  /** `ws://host:port/ws` or `wss://…`. */
  readonly url: string;
  readonly WebSocket: RelaySocketConstructor;
  /** Our identity public key (Ed25519, 32 bytes). */
  readonly identityKey: Uint8Array;
  /** Signs with the identity key (which never leaves the core): Ed25519(IK, payload). */
  sign(payload: Uint8Array): Promise<Uint8Array>;
  /**
   * Authenticate as this device of the account (`auth.device`) instead of by IK: its
   * certificate, and signing with its device key. The relay accepts it only while the
   * account's published device list names the device.
   */
  readonly device?: { readonly cert: DeviceCertificate; sign(payload: Uint8Array): Promise<Uint8Array> };
  readonly clock: Clock;
  readonly random: Random;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly network?: NetworkSignals;
  readonly config?: Partial<WsRelayConfig>;
  /** Decodes and validates every incoming frame (the core's IngressGuard); default: a guard of its own. */
  readonly ingress?: FrameCheck<Frame>;
}

// ---- errors ---------------------------------------------------------------------------

/** A prekey request the relay refused or did not answer. */
export class RelayRequestError extends Error {
  override readonly name = 'RelayRequestError';
  constructor(
    /** The relay's error code, or `timeout` / `unavailable` / `disconnected`. */
    readonly code: ErrorCode | 'timeout' | 'unavailable' | 'disconnected',
    message: string,
  ) {
    super(message);
  }
}

/** How the router should treat each relay error code on a `send`. */
function failureKindOf(code: ErrorCode): TransportFailureKind {
  switch (code) {
    case 'mailbox_full':
      return 'destination_full';
    case 'malformed':
    case 'too_large':
    case 'unsupported_version':
    case 'unknown_type':
      return 'rejected';
    case 'unauthenticated':
    case 'auth_failed':
      return 'disconnected';
    case 'device_unlinked':
      return 'rejected'; // that device's mailbox is closed for good: the sender refetches the device list
    case 'stale_devices':
      return 'rejected'; // these bytes with this version never go: the sender covers the new devices and sends again
    default:
      return 'overloaded'; // rate_limited, overloaded, internal, and anything unexpected
  }
}

// ---- the transport ---------------------------------------------------------------------

type Response = Extract<RelayFrame, { rid: number }>;

export class WsRelayTransport implements Transport {
  readonly name = 'relay' as const;
  private readonly config: WsRelayConfig;
  private readonly network: NetworkSignals;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly requests: PendingRequests<Response | ErrorFrame>;
  private readonly acks: AckBatcher;
  private readonly pacer: SendPacer;
  private readonly ingress: FrameCheck<Frame>;
  private readonly incoming = new Listeners<IncomingEnvelope>();
  private readonly availability = new Listeners<TransportStateChange>();
  private readonly connectionStates = new Listeners<RelayConnectionState>();
  private readonly signals = new Listeners<Uint8Array>();
  private readonly prekeysLow = new Listeners<{ opks: number; pqopks: number }>();
  private readonly devicesChanged = new Listeners<{ ik: Uint8Array; version: number }>();
  private readonly linkData = new Listeners<{ ch: Uint8Array; data: Uint8Array }>();
  private readonly linkClosed = new Listeners<Uint8Array>();
  private readonly catchUp = new MailboxCatchUp();
  private current: RelayConnectionState = { kind: 'offline' };
  private socket: RelaySocket | undefined;
  private started = false;
  private mailbox: Uint8Array | undefined;
  private cancelReconnect: (() => void) | undefined;
  private cancelHandshake: (() => void) | undefined;
  private cancelHeartbeat: (() => void) | undefined;
  private cancelPongWait: (() => void) | undefined;
  private unsubscribeNetwork: (() => void) | undefined;

  constructor(private readonly opts: WsRelayTransportOptions) {
    this.config = { ...DEFAULT_WS_RELAY_CONFIG, ...opts.config };
    this.network = opts.network ?? alwaysOnline;
    this.log = opts.logger.child('relay');
    this.backoff = new Backoff(this.config.reconnect, opts.random);
    this.requests = new PendingRequests(opts.clock, Math.floor(opts.random.float() * 0x7fff_ffff));
    this.acks = new AckBatcher(opts.clock, (ids) => this.sendFrame({ t: 'ack', ids }));
    this.pacer = new SendPacer(opts.clock, this.config.pace);
    this.ingress = opts.ingress ?? new IngressGuard({ decode: wireFrameDecoder(), metrics: opts.metrics, logger: opts.logger });
  }

  // ---- lifecycle ----

  /** Starts connecting (or waits for the network when the browser is offline). Can follow `stop`. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribeNetwork = this.network.subscribe((signal) => this.onNetworkSignal(signal));
    if (this.network.isOnline()) this.connect();
    else this.setState({ kind: 'offline' });
  }

  /** Closes the connection and stops reconnecting; pending sends reject as `disconnected`. */
  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.unsubscribeNetwork?.();
    this.unsubscribeNetwork = undefined;
    this.cancelReconnect?.();
    this.cancelReconnect = undefined;
    this.acks.flush(); // commits already made should not be redelivered next time
    this.teardown(CLOSE_CODE_NORMAL, 'stopped');
    this.acks.dispose();
    this.setState({ kind: 'offline' });
  }

  /** Connects at once when waiting to reconnect (the user's "Retry now"); nothing otherwise. */
  reconnectNow(): void {
    if (!this.started || this.current.kind !== 'reconnecting') return;
    this.opts.metrics.inc('relay.reconnect_now');
    this.connect();
  }

  get state(): RelayConnectionState {
    return this.current;
  }

  /** Our mailbox address as the relay confirmed it in `ready` (undefined before the first). */
  get mailboxAddress(): Uint8Array | undefined {
    return this.mailbox;
  }

  onConnectionState(listener: (state: RelayConnectionState) => void): () => void {
    return this.connectionStates.add(listener);
  }

  /**
   * Called when this connection has every envelope that waited at `ready` committed and
   * acknowledged (mailbox-catch-up.ts); `caughtUp` says whether it already has.
   */
  onCaughtUp(listener: () => void): () => void {
    return this.catchUp.onCaughtUp(listener);
  }

  get caughtUp(): boolean {
    return this.catchUp.caughtUp;
  }

  // ---- Transport ----

  isAvailable(_destination: Uint8Array): boolean {
    return this.current.kind === 'online';
  }

  async send(envelope: Envelope, options?: SendOptions): Promise<void> {
    if (this.current.kind !== 'online') throw new TransportSendError('unavailable', 'relay');
    const release = await this.pacer.acquire();
    try {
      if (this.current.kind !== 'online') throw new TransportSendError('disconnected', 'relay');
      const rid = this.requests.nextRid();
      let bytes: Uint8Array;
      try {
        bytes = encodeFrame({ t: 'send', rid, env: envelope, ...(options?.deviceList ? { dl: options.deviceList } : {}) });
      } catch (err) {
        // The wire format refuses this envelope (too large, bad id length): it can never be
        // sent, so say so instead of failing like a broken link, retry after retry.
        throw new TransportSendError('rejected', 'relay', isWireError(err) ? err.reason : 'malformed');
      }
      const response = this.requests.wait(rid, this.config.sendTimeoutMs, () => new TransportSendError('timeout', 'relay'));
      if (!this.sendBytes(bytes)) this.requests.reject(rid, new TransportSendError('disconnected', 'relay'));
      // Acks waiting for company go right behind the deposit: the relay commits what arrives
      // in one turn together, so they share its fsync instead of queueing a second commit in
      // front of the next deposit (a delivery receipt follows its message's ack; issue 22).
      else if (this.acks.queued > 0) this.acks.flush();
      const frame = await response.catch((err: unknown) => {
        throw err instanceof TransportSendError ? err : new TransportSendError('disconnected', 'relay');
      });
      if (frame.t === 'sent') return;
      if (frame.t === 'error') throw new TransportSendError(failureKindOf(frame.code), 'relay', frame.code, frame.code === 'stale_devices' ? frame.list : undefined);
      throw new TransportSendError('disconnected', 'relay', 'unexpected_response');
    } finally {
      release();
    }
  }

  onEnvelope(listener: (incoming: IncomingEnvelope) => void): () => void {
    return this.incoming.add(listener);
  }

  onStateChange(listener: (change: TransportStateChange) => void): () => void {
    return this.availability.add(listener);
  }

  // ---- acks, prekeys, signaling ----

  /** Uploads our prekey bundle; resolves with the one-time key counts the relay now holds. */
  async publishPrekeys(bundle: PublishedBundle): Promise<{ opks: number; pqopks: number }> {
    const frame = await this.request((rid) => ({ t: 'prekeys.publish', rid, bundle }));
    if (frame.t !== 'prekeys.published') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
    return { opks: frame.opks, pqopks: frame.pqopks };
  }

  /** Fetches a contact's bundle, or one device's of a multi-device contact (consuming at most one of their one-time keys). */
  async fetchPrekeys(identityKey: Uint8Array, deviceId?: Uint8Array): Promise<FetchedBundle> {
    const frame = await this.request((rid) => ({ t: 'prekeys.fetch', rid, ik: identityKey, ...(deviceId ? { dev: deviceId } : {}) }));
    if (frame.t !== 'prekeys.bundle') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
    return frame.bundle;
  }

  /** One body to many mailboxes (a group message, PROTOCOL.md §17.5); resolves once the relay holds it. */
  async sendMulti(id: Uint8Array, to: readonly Uint8Array[], body: Uint8Array): Promise<{ readonly full: readonly Uint8Array[]; readonly unlinked: readonly Uint8Array[] }> {
    const frame = await this.request((rid) => ({ t: 'send.multi', rid, id, to, body }));
    if (frame.t !== 'sent.multi') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
    return { full: frame.full, unlinked: frame.unlinked };
  }

  /** Registers this device's Web Push subscription for its mailbox. */
  async registerPush(sub: PushSubscriptionKeys): Promise<void> {
    const frame = await this.request((rid) => ({ t: 'push.register', rid, endpoint: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth }));
    if (frame.t !== 'push.registered') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
  }

  async unregisterPush(): Promise<void> {
    const frame = await this.request((rid) => ({ t: 'push.unregister', rid }));
    if (frame.t !== 'push.unregistered') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
  }

  /** Publishes our account's signed device list; resolves with the version the relay now holds. */
  async publishDeviceList(list: SignedDeviceList): Promise<number> {
    const frame = await this.request((rid) => ({ t: 'devices.publish', rid, list }));
    if (frame.t !== 'devices.published') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
    return frame.version;
  }

  /** An account's signed device list as the relay holds it (unverified: the caller judges it), or undefined for a single-device account. */
  async fetchDeviceList(identityKey: Uint8Array): Promise<SignedDeviceList | undefined> {
    let frame: Response;
    try {
      frame = await this.request((rid) => ({ t: 'devices.fetch', rid, ik: identityKey }));
    } catch (err) {
      if (err instanceof RelayRequestError && err.code === 'not_found') return undefined;
      throw err;
    }
    if (frame.t !== 'devices.list') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
    return frame.list;
  }

  /** Asks to hear `devices.changed` for these accounts while this connection lasts (ask again after a reconnect). */
  async watchDevices(identityKeys: readonly Uint8Array[]): Promise<number> {
    const frame = await this.request((rid) => ({ t: 'devices.watch', rid, iks: identityKeys }));
    if (frame.t !== 'devices.watching') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
    return frame.count;
  }

  /** The relay says an account (ours or a watched one) stored a new device list. */
  onDevicesChanged(listener: (change: { ik: Uint8Array; version: number }) => void): () => void {
    return this.devicesChanged.add(listener);
  }

  /** Holds device-link channel `ch` (PROTOCOL.md §13.6). */
  async openLinkChannel(ch: Uint8Array): Promise<void> {
    const frame = await this.request((rid) => ({ t: 'link.open', rid, ch }));
    if (frame.t !== 'link.opened') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
  }

  /** Joins device-link channel `ch`, held by the existing device. */
  async joinLinkChannel(ch: Uint8Array): Promise<void> {
    const frame = await this.request((rid) => ({ t: 'link.join', rid, ch }));
    if (frame.t !== 'link.joined') throw new RelayRequestError('internal', `unexpected ${frame.t}`);
  }

  sendLinkData(ch: Uint8Array, data: Uint8Array): void {
    if (this.current.kind !== 'online') throw new RelayRequestError('unavailable', 'relay is not connected');
    if (!this.sendFrame({ t: 'link.data', ch, data })) throw new RelayRequestError('disconnected', 'relay connection lost');
  }

  onLinkData(listener: (ch: Uint8Array, data: Uint8Array) => void): () => void {
    return this.linkData.add((m) => listener(m.ch, m.data));
  }

  onLinkClosed(listener: (ch: Uint8Array) => void): () => void {
    return this.linkClosed.add(listener);
  }

  /** Forwards an (end-to-end encrypted) signaling blob to the connected owner of mailbox `to`. */
  sendSignal(to: Uint8Array, blob: Uint8Array): void {
    if (this.current.kind !== 'online') throw new RelayRequestError('unavailable', 'relay is not connected');
    if (!this.sendFrame({ t: 'signal', to, blob })) throw new RelayRequestError('disconnected', 'relay connection lost');
  }

  onSignal(listener: (blob: Uint8Array) => void): () => void {
    return this.signals.add(listener);
  }

  /** The relay says our one-time prekey pool runs low: publish more. */
  onPrekeysLow(listener: (counts: { opks: number; pqopks: number }) => void): () => void {
    return this.prekeysLow.add(listener);
  }

  // ---- connection ----

  private connect(): void {
    if (!this.started) return;
    this.cancelReconnect?.();
    this.cancelReconnect = undefined;
    this.teardown(CLOSE_CODE_NORMAL, 'reconnecting');
    this.setState({ kind: 'connecting' });
    let socket: RelaySocket;
    try {
      socket = new this.opts.WebSocket(this.opts.url);
    } catch (err) {
      this.log.warn('cannot create socket', { error: err instanceof Error ? err.message : 'unknown' });
      this.scheduleReconnect();
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.cancelHandshake = this.opts.clock.setTimeout(() => {
      this.log.warn('handshake timed out');
      this.giveUp(socket, 'handshake_timeout');
    }, this.config.handshakeTimeoutMs);
    socket.onopen = () => {
      if (this.socket === socket) this.setState({ kind: 'authenticating' });
    };
    socket.onmessage = (ev) => {
      if (this.socket === socket) this.onBytes(socket, ev.data);
    };
    socket.onerror = () => {
      // Always followed by a close event; nothing to do but note it.
      if (this.socket === socket) this.log.debug('socket error');
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      if (ev.code === RELAY_CLOSE_POLICY && ev.reason === 'device unlinked') return this.unlinked(socket);
      this.log.info('relay connection closed', { code: ev.code });
      this.socket = undefined;
      this.afterClose();
    };
  }

  private onBytes(socket: RelaySocket, data: unknown): void {
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (data instanceof Uint8Array) bytes = data;
    else {
      this.opts.metrics.inc('packet.validation.failure', { reason: 'not_binary' });
      return;
    }
    // Decoded with origin `relay`: only the relay's frames pass (and are checked to be, not cast).
    const frame = this.ingress.checkFrame(bytes, 'relay');
    if (!frame) return;
    if (isFrameFrom('relay', frame)) this.onFrame(socket, frame);
    else this.opts.metrics.inc('packet.validation.failure', { reason: 'wrong_origin' });
  }

  private onFrame(socket: RelaySocket, frame: RelayFrame): void {
    switch (frame.t) {
      case 'challenge':
        void this.answerChallenge(socket, frame.nonce);
        return;
      case 'ready':
        this.onReady(frame.mailbox, frame.queued);
        return;
      case 'deliver': {
        if (this.current.kind !== 'online') return; // the relay only pushes after `ready`
        const env = frame.env;
        this.incoming.emit({
          envelope: env,
          transport: 'relay',
          ack: () => {
            this.acks.add(env.id);
            this.catchUp.acknowledged(env.id);
          },
        });
        return;
      }
      case 'sent':
      case 'sent.multi':
      case 'prekeys.published':
      case 'prekeys.bundle':
      case 'push.registered':
      case 'push.unregistered':
      case 'devices.published':
      case 'devices.list':
      case 'devices.watching':
      case 'link.opened':
      case 'link.joined':
        this.requests.resolve(frame.rid, frame);
        return;
      case 'link.data':
        this.linkData.emit({ ch: frame.ch, data: frame.data });
        return;
      case 'link.closed':
        this.linkClosed.emit(frame.ch);
        return;
      case 'devices.changed':
        this.devicesChanged.emit({ ik: frame.ik, version: frame.version });
        return;
      case 'pong':
        this.cancelPongWait?.();
        this.cancelPongWait = undefined;
        return;
      case 'signal':
        this.signals.emit(frame.blob);
        return;
      case 'prekeys.low':
        this.prekeysLow.emit({ opks: frame.opks, pqopks: frame.pqopks });
        return;
      case 'error':
        this.onErrorFrame(socket, frame);
        return;
    }
  }

  private async answerChallenge(socket: RelaySocket, nonce: Uint8Array): Promise<void> {
    if (this.current.kind !== 'authenticating' && this.current.kind !== 'connecting') return;
    this.setState({ kind: 'authenticating' });
    const device = this.opts.device;
    let sig: Uint8Array;
    try {
      sig = device ? await device.sign(deviceAuthPayload(nonce)) : await this.opts.sign(authPayload(nonce));
    } catch (err) {
      this.log.error('signing the relay challenge failed', { error: err instanceof Error ? err.message : 'unknown' });
      this.giveUp(socket, 'sign_failed');
      return;
    }
    if (this.socket !== socket) return; // the link changed while we signed
    this.sendFrame(device ? { t: 'auth.device', cert: device.cert, sig } : { t: 'auth', ik: this.opts.identityKey, sig });
  }

  private onReady(mailbox: Uint8Array, queued: number): void {
    if (this.current.kind !== 'authenticating') return;
    this.cancelHandshake?.();
    this.cancelHandshake = undefined;
    this.mailbox = mailbox;
    this.backoff.reset();
    this.log.info('relay connection ready', { queued });
    this.setState({ kind: 'online' });
    this.catchUp.ready(queued);
    this.acks.flush(); // acks that waited out a disconnection
    this.scheduleHeartbeat();
  }

  private onErrorFrame(socket: RelaySocket, frame: ErrorFrame): void {
    this.opts.metrics.inc('relay.error', { code: frame.code });
    if (frame.rid !== undefined && this.requests.resolve(frame.rid, frame)) return;
    this.log.warn('relay error', { code: frame.code, msg: frame.msg.slice(0, 120) });
    if (frame.code === 'device_unlinked' && this.current.kind === 'authenticating') this.unlinked(socket);
    else if (frame.code === 'auth_failed' || frame.code === 'unauthenticated') this.giveUp(socket, frame.code);
  }

  /** The relay refused or closed this device as unlinked: stop for good (reconnecting would be refused again). */
  private unlinked(socket: RelaySocket): void {
    if (this.socket !== socket) return;
    this.log.warn('the relay says this device was unlinked');
    this.teardown(CLOSE_CODE_CLIENT_GAVE_UP, 'device unlinked');
    this.clearLinkTimers();
    this.requests.rejectAll(() => new TransportSendError('disconnected', 'relay'));
    this.pacer.rejectWaiting(() => new TransportSendError('disconnected', 'relay'));
    this.started = false;
    this.setState({ kind: 'offline', reason: 'device_unlinked' });
  }

  private async request(build: (rid: number) => ClientFrame): Promise<Response> {
    if (this.current.kind !== 'online') throw new RelayRequestError('unavailable', 'relay is not connected');
    const release = await this.pacer.acquire().catch(() => {
      throw new RelayRequestError('disconnected', 'relay connection lost');
    });
    try {
      if (this.current.kind !== 'online') throw new RelayRequestError('disconnected', 'relay connection lost');
      const rid = this.requests.nextRid();
      const response = this.requests.wait(rid, this.config.requestTimeoutMs, () => new RelayRequestError('timeout', 'relay did not answer'));
      if (!this.sendFrame(build(rid))) this.requests.reject(rid, new RelayRequestError('disconnected', 'relay connection lost'));
      const frame = await response.catch((err: unknown) => {
        throw err instanceof RelayRequestError ? err : new RelayRequestError('disconnected', 'relay connection lost');
      });
      if (frame.t === 'error') throw new RelayRequestError(frame.code, frame.msg);
      return frame;
    } finally {
      release();
    }
  }

  // ---- heartbeat ----

  private scheduleHeartbeat(): void {
    this.cancelHeartbeat?.();
    this.cancelHeartbeat = this.opts.clock.setTimeout(() => this.heartbeat(), this.config.heartbeatIntervalMs);
  }

  private heartbeat(): void {
    const socket = this.socket;
    if (!socket || this.current.kind !== 'online' || this.cancelPongWait) return;
    const rid = this.requests.nextRid();
    this.cancelPongWait = this.opts.clock.setTimeout(() => {
      this.cancelPongWait = undefined;
      this.log.warn('heartbeat missed: closing the link');
      this.opts.metrics.inc('relay.heartbeat.missed');
      this.giveUp(socket, 'pong_timeout');
    }, this.config.pongTimeoutMs);
    this.sendFrame({ t: 'ping', rid });
    this.scheduleHeartbeat();
  }

  // ---- network signals ----

  private onNetworkSignal(signal: NetworkSignal): void {
    if (!this.started) return;
    if (signal === 'offline') {
      this.cancelReconnect?.();
      this.cancelReconnect = undefined;
      this.teardown(CLOSE_CODE_NORMAL, 'offline');
      this.setState({ kind: 'offline' });
      return;
    }
    if (!this.network.isOnline()) return;
    if (this.current.kind === 'offline' || this.current.kind === 'reconnecting') this.connect();
    // Back from background or the back/forward cache: the link may be dead without a close.
    else if (this.current.kind === 'online' && signal !== 'online') this.heartbeat();
  }

  // ---- plumbing ----

  private sendFrame(frame: ClientFrame): boolean {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame);
    } catch (err) {
      this.log.warn('frame not encodable', { t: frame.t, reason: isWireError(err) ? err.reason : 'unknown' });
      return false;
    }
    return this.sendBytes(bytes);
  }

  private sendBytes(bytes: Uint8Array): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== SOCKET_OPEN) return false;
    try {
      socket.send(bytes);
      return true;
    } catch (err) {
      this.log.warn('frame not sent', { error: err instanceof Error ? err.message : 'unknown' });
      return false;
    }
  }

  /** Drops a link we no longer trust; its close event is ignored, we reconnect ourselves. */
  private giveUp(socket: RelaySocket, reason: string): void {
    if (this.socket !== socket) return;
    this.log.info('dropping relay link', { reason });
    this.teardown(CLOSE_CODE_CLIENT_GAVE_UP, reason);
    this.afterClose();
  }

  private afterClose(): void {
    this.clearLinkTimers();
    this.requests.rejectAll(() => new TransportSendError('disconnected', 'relay'));
    this.pacer.rejectWaiting(() => new TransportSendError('disconnected', 'relay'));
    if (!this.started) return;
    if (!this.network.isOnline()) this.setState({ kind: 'offline' });
    else this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.opts.metrics.inc('relay.reconnect');
    this.setState({ kind: 'reconnecting', at: this.opts.clock.now() + delay });
    this.cancelReconnect?.();
    this.cancelReconnect = this.opts.clock.setTimeout(() => {
      this.cancelReconnect = undefined;
      this.connect();
    }, delay);
  }

  private teardown(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = undefined;
    this.clearLinkTimers();
    this.requests.rejectAll(() => new TransportSendError('disconnected', 'relay'));
    this.pacer.rejectWaiting(() => new TransportSendError('disconnected', 'relay'));
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Keep an error handler: closing a socket that is still CONNECTING makes it emit an
    // error, and Node's `ws` throws an error event that has no listener.
    socket.onerror = () => {};
    try {
      socket.close(code, reason);
    } catch {
      // Closing a socket that never opened may throw in some engines; it is gone either way.
    }
  }

  private clearLinkTimers(): void {
    for (const cancel of [this.cancelHandshake, this.cancelHeartbeat, this.cancelPongWait]) cancel?.();
    this.cancelHandshake = this.cancelHeartbeat = this.cancelPongWait = undefined;
  }

  private setState(next: RelayConnectionState): void {
    const prev = this.current;
    this.current = next;
    if (next.kind !== 'online') this.catchUp.reset();
    const same = prev.kind === next.kind && (prev.kind !== 'reconnecting' || (next.kind === 'reconnecting' && prev.at === next.at));
    if (same) return;
    this.connectionStates.emit(next);
    const wasOnline = prev.kind === 'online';
    const isOnline = next.kind === 'online';
    if (wasOnline !== isOnline) this.availability.emit({ transport: 'relay', available: isOnline });
  }
}
