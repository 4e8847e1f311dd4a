/**
 * A transport is one named path an envelope can take to its destination. It reports
 * success only when the far side has acknowledged the envelope: for the relay, its
 * `sent` frame (the envelope is durable on the relay's disk); for a direct channel, the
 * peer's `p2p.ack` after its own durable commit.
 */
import type { DeviceListVersion, SignedDeviceList } from '../wire/index.ts';
import type { Envelope } from './envelope.ts';

export type TransportName = 'relay' | 'direct';

/** Priority order the router tries transports in: a live direct channel first, the relay second. */
export const TRANSPORT_PRIORITY: readonly TransportName[] = ['direct', 'relay'];

/**
 * Why one send over one transport failed. The kind decides what the router does:
 * - `unavailable`, `disconnected`, `timeout`, `overloaded`: the path is unhealthy;
 *   counts against its circuit breaker, fail over, retry later.
 * - `destination_full`: the path works but the recipient's mailbox is full; retry later
 *   without blaming the transport.
 * - `rejected`: the far side refused this envelope for good (malformed, too large):
 *   retrying the identical bytes cannot succeed, so the message fails at once.
 */
export type TransportFailureKind = 'unavailable' | 'disconnected' | 'timeout' | 'overloaded' | 'destination_full' | 'rejected';

export class TransportSendError extends Error {
  override readonly name = 'TransportSendError';
  constructor(
    readonly kind: TransportFailureKind,
    readonly transport: TransportName,
    /** The relay's or peer's error code when it sent one (`rate_limited`, `too_large`, ...). */
    readonly code?: string,
    /** With `stale_devices`: the recipient account's current signed device list, as the relay sent it (not yet verified). */
    readonly deviceList?: SignedDeviceList,
  ) {
    super(`${transport} send failed: ${kind}${code ? ` (${code})` : ''}`);
  }
}

/** Does a failure of this kind say the transport itself is unhealthy? */
export function countsAgainstTransport(kind: TransportFailureKind): boolean {
  return kind !== 'destination_full' && kind !== 'rejected';
}

/** What a send may say besides the envelope. */
export interface SendOptions {
  /**
   * The recipient account's device-list version this copy was fanned out under: the relay
   * refuses it (`rejected`, code `stale_devices`, with the current list) when it holds a
   * newer one (docs/PROTOCOL.md §13.5). A direct channel ignores it.
   */
  readonly deviceList?: DeviceListVersion;
}

/** An envelope that arrived; `ack` must be called only after the receiver's durable commit. */
export interface IncomingEnvelope {
  readonly envelope: Envelope;
  readonly transport: TransportName;
  ack(): void;
}

export interface TransportStateChange {
  readonly transport: TransportName;
  /** The destination whose availability changed, or undefined when the whole transport changed. */
  readonly destination?: Uint8Array;
  readonly available: boolean;
}

export interface Transport {
  readonly name: TransportName;
  /** Can this transport carry an envelope to `destination` right now? */
  isAvailable(destination: Uint8Array): boolean;
  /** Resolves once the far side acknowledged the envelope; rejects with `TransportSendError`. */
  send(envelope: Envelope, options?: SendOptions): Promise<void>;
  onEnvelope(listener: (incoming: IncomingEnvelope) => void): () => void;
  onStateChange(listener: (change: TransportStateChange) => void): () => void;
}
