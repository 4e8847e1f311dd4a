/**
 * Replay protection at ingress, in front of decryption, for every transport:
 *
 * 1. `checkFrame(bytes)` validates a raw frame with the wire decoder; a frame that does
 *    not decode is counted as `packet.validation.failure{reason}` and dropped.
 * 2. `admit(incoming)` deduplicates envelopes by id. An id already committed (in the
 *    bounded recent set) is a replay: counted as `packet.replay`, acknowledged (so the
 *    relay deletes it and stops redelivering) and dropped. An id that is being processed
 *    right now (the same envelope over both paths) is held: its ack is sent when the
 *    first copy commits.
 *
 * Ids enter the recent set only once the receiver reports its durable commit: marking
 * at arrival would turn a crash or decryption error between arrival and commit into a
 * silently acked — lost — message. The recent set is a fast path; the store's durable
 * dedup (checked inside the commit transaction) stays the authority, and reports
 * `duplicate` through `Admission.settle`.
 */
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { envelopeKey } from './envelope.ts';
import { RecentIds } from './recent-ids.ts';
import type { IncomingEnvelope, TransportName } from './transport.ts';

/**
 * The wire decoder, injected: `{ ok: true, frame }` or a failure with a short machine
 * reason. It is told which transport the bytes came from (each may send only its own
 * frame types: see wire-frame-decoder.ts).
 */
export type FrameDecoder<F> = (bytes: Uint8Array, transport: TransportName) => { readonly ok: true; readonly frame: F } | { readonly ok: false; readonly reason: string };

/** The one decode point for raw frames: every transport hands its incoming bytes here. */
export interface FrameCheck<F> {
  checkFrame(bytes: Uint8Array, transport: TransportName): F | undefined;
}

/** How the receiver finished with a fresh envelope. */
export type IngressResult = 'committed' | 'duplicate' | 'failed';

export type Admission =
  | {
      readonly kind: 'fresh';
      /** Call exactly once: `committed`/`duplicate` ack it (and any held copies); `failed` acks nothing. */
      settle(result: IngressResult): void;
    }
  | { readonly kind: 'replay' }
  | { readonly kind: 'in_flight' };

export interface IngressGuardDeps<F> {
  readonly decode: FrameDecoder<F>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly recentCapacity?: number;
}

export class IngressGuard<F> implements FrameCheck<F> {
  private readonly recent: RecentIds;
  /** id -> acks of copies that arrived while the first copy was being processed. */
  private readonly processing = new Map<string, Array<() => void>>();
  private readonly log: Logger;

  constructor(private readonly deps: IngressGuardDeps<F>) {
    this.recent = new RecentIds(deps.recentCapacity);
    this.log = deps.logger.child('ingress');
  }

  /** Decodes and validates one raw frame; undefined (counted) when it is invalid. Never throws. */
  checkFrame(bytes: Uint8Array, transport: TransportName): F | undefined {
    let result: ReturnType<FrameDecoder<F>>;
    try {
      result = this.deps.decode(bytes, transport);
    } catch {
      result = { ok: false, reason: 'decoder_error' };
    }
    if (result.ok) return result.frame;
    this.deps.metrics.inc('packet.validation.failure', { reason: result.reason });
    this.log.warn('invalid frame dropped', { transport, reason: result.reason, bytes: bytes.length });
    return undefined;
  }

  /** Deduplicates an incoming envelope before it is decrypted. */
  admit(incoming: IncomingEnvelope): Admission {
    const id = envelopeKey(incoming.envelope);
    if (this.recent.has(id)) {
      this.countReplay(id, incoming.transport);
      incoming.ack();
      return { kind: 'replay' };
    }
    const held = this.processing.get(id);
    if (held) {
      held.push(() => incoming.ack());
      this.log.debug('duplicate held until the first copy commits', { id, transport: incoming.transport });
      return { kind: 'in_flight' };
    }
    const acks: Array<() => void> = [() => incoming.ack()];
    this.processing.set(id, acks);
    let settled = false;
    return {
      kind: 'fresh',
      settle: (result) => {
        if (settled) return;
        settled = true;
        this.processing.delete(id);
        if (result === 'failed') return; // no ack: the relay redelivers, the peer resends
        if (result === 'duplicate') this.countReplay(id, incoming.transport);
        this.recent.add(id);
        for (const ack of acks) ack();
      },
    };
  }

  /** Ids known to be committed (e.g. loaded from the store at start) skip the database next time. */
  remember(id: Uint8Array): void {
    this.recent.add(envelopeKey({ id }));
  }

  private countReplay(id: string, transport: TransportName): void {
    this.deps.metrics.inc('packet.replay', { transport });
    this.log.info('replayed envelope acknowledged and dropped', { id, transport });
  }
}
