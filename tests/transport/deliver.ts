/**
 * What a product caller does with the router, in memory, for transport tests: one
 * `attempt` round after another, waiting for `retryAt` or for the router's retry
 * opportunity (a transport for this destination came up, a breaker let traffic through),
 * until the message is delivered or the outcome is final. The messenger's OutboxWorker
 * runs the same rounds from its durable outbox.
 */
import { bytesEqual } from '../../src/core/bytes.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { Envelope } from '../../src/core/transport/envelope.ts';
import type { DeliveryFailureReason, RetryState } from '../../src/core/transport/retry-budget.ts';
import type { AttemptOutcome, Router } from '../../src/core/transport/router.ts';
import type { TransportName } from '../../src/core/transport/transport.ts';

export interface Delivered {
  readonly transport: TransportName;
  readonly state: RetryState;
}

/** The final outcome of a message that was not delivered. */
export class Undelivered extends Error {
  override readonly name = 'Undelivered';
  constructor(
    readonly reason: DeliveryFailureReason,
    readonly state: RetryState,
    readonly detail: string | undefined,
  ) {
    super(`not delivered: ${reason}`);
  }
}

export interface DeliverOptions {
  /** Retry state restored from an outbox; a fresh message omits it. */
  readonly state?: RetryState;
  /** After every failed, non-final round. */
  onRetry?(outcome: Extract<AttemptOutcome, { final: false }>): void;
}

export async function deliver(router: Router, clock: Clock, envelope: Envelope, options: DeliverOptions = {}): Promise<Delivered> {
  let state = options.state;
  for (;;) {
    const outcome = await router.attempt(envelope, state);
    if (outcome.ok) return { transport: outcome.transport, state: outcome.state };
    if (outcome.final) throw new Undelivered(outcome.reason, outcome.state, outcome.detail);
    state = outcome.state;
    options.onRetry?.(outcome);
    await new Promise<void>((resolve) => {
      let cancelTimer = () => {};
      let unsubscribe = () => {};
      let done = false;
      const go = () => {
        if (done) return;
        done = true;
        cancelTimer();
        unsubscribe();
        resolve();
      };
      unsubscribe = router.onRetryOpportunity((o) => {
        if (!o.destination || bytesEqual(o.destination, envelope.to)) go();
      });
      cancelTimer = clock.setTimeout(go, Math.max(0, outcome.retryAt - clock.now()));
    });
  }
}
