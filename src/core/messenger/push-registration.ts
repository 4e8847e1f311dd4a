import type { Logger } from '../log.ts';
import type { RelayConnectionState } from '../transport/index.ts';
import { PushRegistrationRefusedError } from './errors.ts';

/** A browser's Web Push subscription, as the relay needs it (PushSubscription.toJSON's keys, decoded). */
export interface PushSubscriptionKeys {
  /** The push service URL (https). */
  readonly endpoint: string;
  /** The subscription's P-256 public key, uncompressed (65 bytes). */
  readonly p256dh: Uint8Array;
  /** The RFC 8291 authentication secret (16 bytes). */
  readonly auth: Uint8Array;
}

/** `registered`: the relay confirmed it; `pending`: the relay is not connected, it is sent on the next connection. */
export type PushRegistrationOutcome = 'registered' | 'pending';

export interface PushRelay {
  readonly state: RelayConnectionState;
  registerPush(sub: PushSubscriptionKeys): Promise<void>;
  unregisterPush(): Promise<void>;
}

/**
 * Keeps this device's push subscription registered with its relay: what the app last
 * asked for (a subscription, or none) is sent now when the relay is connected, and again
 * on every new connection (a relay restored from an older backup, or a refusal the user
 * since fixed, is then made right without anyone asking). Only in memory: the browser
 * keeps the subscription itself, and the app hands it over again on every start.
 */
export class PushRegistration {
  private wanted: PushSubscriptionKeys | null | undefined;
  private relay: PushRelay | undefined;

  constructor(private readonly log: Logger) {}

  /** The relay connection exists (the identity does); applies what was asked before. */
  attach(relay: PushRelay): void {
    this.relay = relay;
  }

  /** A new relay connection is up: register what the app asked for (failures are logged; the next connection tries again). */
  online(): void {
    if (this.wanted === undefined) return;
    this.apply().catch((err: unknown) => {
      const e = err as { kind?: string; code?: string } | null;
      this.log.warn('push registration failed', { kind: e?.kind ?? e?.code ?? 'unknown' });
    });
  }

  /** Registers `sub` (or, with null, removes this device's subscription); rejects with PushRegistrationRefusedError naming the relay's reason. */
  async set(sub: PushSubscriptionKeys | null): Promise<PushRegistrationOutcome> {
    this.wanted = sub;
    if (this.relay?.state.kind !== 'online') return 'pending';
    try {
      await this.apply();
    } catch (err) {
      // The transport's refusal carries the relay's code; it becomes the core's own typed error, so every tab gets it as such.
      const e = err as { code?: unknown; kind?: unknown } | null;
      const reason = typeof e?.code === 'string' ? e.code : typeof e?.kind === 'string' ? e.kind : 'unknown';
      throw new PushRegistrationRefusedError(reason, `the relay did not take the push subscription (${reason})`);
    }
    return 'registered';
  }

  private apply(): Promise<void> {
    const relay = this.relay;
    if (!relay || this.wanted === undefined) return Promise.resolve();
    return this.wanted ? relay.registerPush(this.wanted) : relay.unregisterPush();
  }
}
