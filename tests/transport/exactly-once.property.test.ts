/**
 * Exactly-once delivery through hostile transports: a sender's Router over two chaos
 * transports that drop envelopes, drop acks, duplicate and reorder (random delays) and
 * flap between available and unavailable, and a receiver that deduplicates through the IngressGuard in front of a "durable" store
 * and sometimes crashes before committing. Every schedule is driven by a seed, so a
 * failing case replays exactly.
 *
 * This is the router's own loop (`Router.send`) against a toy receiver. The production
 * path (OutboxWorker → `Router.attempt` → durable outbox, a real ReceivePipeline, whole
 * messengers restarted at random) has its property in
 * tests/messenger/exactly-once.property.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Router } from '../../src/core/transport/router.ts';
import { IngressGuard } from '../../src/core/transport/ingress-guard.ts';
import { envelopeKey, type Envelope } from '../../src/core/transport/envelope.ts';
import { Listeners } from '../../src/core/transport/listeners.ts';
import { TransportSendError, type IncomingEnvelope, type Transport, type TransportName, type TransportStateChange } from '../../src/core/transport/transport.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { seededRandom, type Random } from '../../src/core/random.ts';
import { silentLogger } from '../../src/core/log.ts';
import { envelope, flush } from './fakes.ts';
import { deliver } from './deliver.ts';

interface Chaos {
  readonly dropEnvelope: number;
  readonly dropAck: number;
  readonly duplicate: number;
  readonly maxDelayMs: number;
  /** Mean time between availability flips (0 = always available). */
  readonly flapEveryMs: number;
}

const ACK_TIMEOUT_MS = 3_000;

/** Delivers into `receive` with random delays (reordering), drops and duplicates. */
class ChaosTransport implements Transport {
  private readonly incoming = new Listeners<IncomingEnvelope>();
  private readonly states = new Listeners<TransportStateChange>();
  private available = true;
  private stopFlapping: (() => void) | undefined;

  constructor(
    readonly name: TransportName,
    private readonly chaos: Chaos,
    private readonly clock: FakeClock,
    private readonly random: Random,
  ) {
    if (chaos.flapEveryMs > 0) this.flap();
  }

  isAvailable(): boolean {
    return this.available;
  }

  /** Goes down and comes back at random moments; always back up once stopped. */
  private flap(): void {
    this.stopFlapping = this.clock.setTimeout(() => {
      this.available = !this.available;
      this.states.emit({ transport: this.name, available: this.available });
      this.flap();
    }, Math.floor(this.random.float() * 2 * this.chaos.flapEveryMs) + 1);
  }

  /** Ends the flapping (up for good) so the run can finish. */
  settle(): void {
    this.stopFlapping?.();
    if (!this.available) {
      this.available = true;
      this.states.emit({ transport: this.name, available: true });
    }
  }

  send(env: Envelope): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (ok: boolean) => {
        if (done) return;
        done = true;
        if (ok) resolve();
        else reject(new TransportSendError('timeout', this.name));
      };
      this.clock.setTimeout(() => finish(false), ACK_TIMEOUT_MS);
      if (this.random.float() < this.chaos.dropEnvelope) return;
      const copies = this.random.float() < this.chaos.duplicate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        this.clock.setTimeout(
          () => {
            this.incoming.emit({
              envelope: { to: env.to.slice(), id: env.id.slice(), body: env.body.slice() },
              transport: this.name,
              ack: () => {
                if (this.random.float() < this.chaos.dropAck) return;
                this.clock.setTimeout(() => finish(true), Math.floor(this.random.float() * this.chaos.maxDelayMs));
              },
            });
          },
          Math.floor(this.random.float() * this.chaos.maxDelayMs),
        );
      }
    });
  }

  onEnvelope(listener: (incoming: IncomingEnvelope) => void): () => void {
    return this.incoming.add(listener);
  }

  onStateChange(listener: (change: TransportStateChange) => void): () => void {
    return this.states.add(listener);
  }
}

const chaosArb = fc.record({
  dropEnvelope: fc.double({ min: 0, max: 0.4, noNaN: true }),
  dropAck: fc.double({ min: 0, max: 0.4, noNaN: true }),
  duplicate: fc.double({ min: 0, max: 0.5, noNaN: true }),
  maxDelayMs: fc.integer({ min: 1, max: 2_000 }),
  flapEveryMs: fc.oneof(fc.constant(0), fc.integer({ min: 500, max: 20_000 })),
});

describe('exactly-once delivery through duplicating, dropping and reordering transports', () => {
  it('every envelope reaches the application exactly once and every send settles exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 25 }),
        chaosArb,
        chaosArb,
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 1, max: 8 }),
        async (seed, count, directChaos, relayChaos, crashRate, recentCapacity) => {
          const clock = new FakeClock(0);
          const random = seededRandom(seed);
          const metrics = new InMemoryMetrics();
          const direct = new ChaosTransport('direct', directChaos, clock, random);
          const relay = new ChaosTransport('relay', relayChaos, clock, random);
          const router = new Router([direct, relay], { clock, random, metrics, logger: silentLogger }, {
            budget: { maxAttempts: 60, maxAgeMs: Number.MAX_SAFE_INTEGER },
            backoff: { baseMs: 200, capMs: 5_000 },
            breaker: { failureThreshold: 4, openCooldownMs: 1_000, cooldownMultiplier: 2, maxCooldownMs: 8_000 },
            attemptTimeoutMs: 10_000,
          });

          // Receiver: guard (small recent set, so the durable store is exercised too) -> commit.
          const guard = new IngressGuard<never>({ decode: () => ({ ok: false, reason: 'unused' }), metrics, logger: silentLogger, recentCapacity });
          const store = new Set<string>();
          const shown = new Map<string, number>();
          const receive = (incoming: IncomingEnvelope) => {
            const admission = guard.admit(incoming);
            if (admission.kind !== 'fresh') return;
            clock.setTimeout(() => {
              if (random.float() < crashRate) return admission.settle('failed');
              const id = envelopeKey(incoming.envelope);
              if (store.has(id)) return admission.settle('duplicate');
              store.add(id);
              shown.set(id, (shown.get(id) ?? 0) + 1);
              admission.settle('committed');
            }, Math.floor(random.float() * 50));
          };
          direct.onEnvelope(receive);
          relay.onEnvelope(receive);

          const envelopes = Array.from({ length: count }, (_, i) => envelope(i + 1));
          const settlements = new Map<string, string[]>();
          for (const env of envelopes) {
            const id = envelopeKey(env);
            settlements.set(id, []);
            deliver(router, clock, env).then(
              (d) => settlements.get(id)!.push(`ok:${d.transport}`),
              (e: unknown) => settlements.get(id)!.push(`failed:${(e as { reason: string }).reason}`),
            );
          }
          const allSettled = () => [...settlements.values()].every((s) => s.length > 0);
          for (let step = 0; step < 20_000 && !allSettled(); step++) {
            await flush(1);
            clock.advance(100);
            // After a while of flapping, both paths come back up for good.
            if (step === 3_000) for (const t of [direct, relay]) t.settle();
          }
          // Let stragglers (late duplicates, late acks) land, then look.
          for (let step = 0; step < 200 && clock.pending() > 0; step++) {
            clock.advance(1_000);
            await flush(1);
          }
          await flush();

          for (const env of envelopes) {
            const id = envelopeKey(env);
            const s = settlements.get(id)!;
            expect(s, `seed ${seed}: settled once`).toHaveLength(1);
            expect(s[0]!.startsWith('ok:'), `seed ${seed}: delivered within the budget`).toBe(true);
            expect(shown.get(id), `seed ${seed}: shown exactly once`).toBe(1);
          }
          expect(shown.size).toBe(count);
          router.dispose();
        },
      ),
      { numRuns: 100 },
    );
  }, 120_000);
});
