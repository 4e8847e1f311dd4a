/**
 * Publishing our prekey bundle to the relay (PQXDH §3.2) and keeping its one-time keys
 * topped up.
 *
 *   publish    once per identity, when the relay is first online: the signed keys and the
 *              first one-time keys. Recorded in the store's meta (`prekeys.publishedThroughId`),
 *              so a restart does not publish again.
 *   replenish  when the relay says a kind runs low (`prekeys.low`), or after the first
 *              upload: new one-time keys, made PREKEY_TOPUP_STEP of each kind per lane
 *              turn, each step saved before the next (sends and receives wait for one step
 *              at most), published once all are saved — the relay never hands out a key
 *              we do not hold. One top-up at a time.
 *
 * Signed prekey rotation is its own job (prekey-rotation.ts).
 */
import {
  addOneTimePreKeys,
  buildPublishedBundle,
  oneTimePreKeysNeeded,
  serializePreKeyPool,
  type OneTimePreKeyCounts,
  type PublishedBundle,
  type PublicOneTimePreKey,
  type SignedPublicPreKey,
} from '../crypto/index.ts';
import type { MessengerContext } from './context.ts';
import { META_PUBLISHED_SPK_ID } from './prekey-rotation.ts';

/** One-time prekeys of each kind made per lane turn during a top-up. */
export const PREKEY_TOPUP_STEP = 10;
/** Meta key: the highest prekey id the relay has. */
export const META_PUBLISHED_THROUGH = 'prekeys.publishedThroughId';

export interface PreKeyUpload {
  publishPrekeys(bundle: PublishedBundle): Promise<OneTimePreKeyCounts>;
}

export class PreKeyPublisher {
  private replenishing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly relay: PreKeyUpload,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  /** Uploads the first bundle unless the relay has one already. Failures are logged (retried at the next connect). */
  async publish(): Promise<void> {
    const { ctx } = this;
    if (this.stopped) return;
    try {
      const through = await ctx.store.getMeta(META_PUBLISHED_THROUGH);
      if (typeof through === 'number') return;
      const bundle = buildPublishedBundle(ctx.identity, ctx.pool);
      const counts = await this.relay.publishPrekeys(bundle);
      await ctx.store.setMeta(META_PUBLISHED_THROUGH, ctx.pool.data.nextId - 1);
      await ctx.store.setMeta(META_PUBLISHED_SPK_ID, bundle.spk.id);
      ctx.log.info('prekeys published', { opks: counts.opks, pqopks: counts.pqopks });
      // A new identity publishes only its first few one-time keys: top up in the background.
      void this.replenish(counts);
    } catch (err) {
      ctx.log.warn('prekey publish failed', { error: err instanceof Error ? err.message : 'unknown' });
    }
  }

  /** Tops up the one-time keys the relay holds (`remaining` of each kind). One top-up at a time. */
  replenish(remaining: OneTimePreKeyCounts): Promise<void> {
    this.replenishing ??= this.topUp(remaining).finally(() => {
      this.replenishing = undefined;
    });
    return this.replenishing;
  }

  private async topUp(remaining: OneTimePreKeyCounts): Promise<void> {
    const { ctx } = this;
    if (this.stopped) return;
    if (typeof (await ctx.store.getMeta(META_PUBLISHED_THROUGH)) !== 'number') return void this.publish();
    let left = oneTimePreKeysNeeded(remaining);
    const publish = { opks: [] as PublicOneTimePreKey[], pqopks: [] as SignedPublicPreKey[] };
    while ((left.opks > 0 || left.pqopks > 0) && !this.stopped) {
      const count = { opks: Math.min(left.opks, PREKEY_TOPUP_STEP), pqopks: Math.min(left.pqopks, PREKEY_TOPUP_STEP) };
      await ctx.lane.run(async () => {
        const step = addOneTimePreKeys(ctx.pool, ctx.identity, ctx.random, count);
        await ctx.store.savePreKeyPool(serializePreKeyPool(step.pool));
        ctx.pool = step.pool;
        publish.opks.push(...step.publish.opks);
        publish.pqopks.push(...step.publish.pqopks);
      });
      left = { opks: left.opks - count.opks, pqopks: left.pqopks - count.pqopks };
    }
    if (!publish.opks.length && !publish.pqopks.length) return;
    try {
      const full = buildPublishedBundle(ctx.identity, ctx.pool);
      await this.relay.publishPrekeys({ ...full, opks: publish.opks, pqopks: publish.pqopks });
      await ctx.store.setMeta(META_PUBLISHED_THROUGH, ctx.pool.data.nextId - 1);
      await ctx.store.setMeta(META_PUBLISHED_SPK_ID, full.spk.id);
      ctx.log.info('prekeys replenished', { opks: publish.opks.length, pqopks: publish.pqopks.length });
    } catch (err) {
      ctx.log.warn('prekey replenish failed', { error: err instanceof Error ? err.message : 'unknown' });
    }
  }
}
