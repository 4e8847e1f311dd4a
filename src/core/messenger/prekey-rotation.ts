/**
 * Signed prekey rotation (PQXDH §3.2): when the current SPK and last-resort PQSPK are
 * older than SIGNED_PREKEY_ROTATION_INTERVAL_MS (7 days; `signedPreKeyRotationDue`), new
 * ones are made (`rotateSignedPreKeys`; the current pair becomes "previous", still
 * accepted for initial messages built from the old bundle, and the older pair is gone).
 *
 * Checked once the relay is online and the first backlog was read, then every
 * SPK_ROTATION_CHECK_INTERVAL_MS, on the injected clock. The new pool and the rotation
 * time are committed in one transaction (on the serial lane, like every pool change),
 * then the signed keys alone are uploaded (`buildSignedPreKeyBundle`: no one-time keys,
 * which the relay would hand out a second time). A failed upload is retried at the next
 * check or reconnect, before any further rotation uploads; until then the relay's SPK is
 * our "previous" one, still accepted.
 */
import {
  buildSignedPreKeyBundle,
  rotateSignedPreKeys,
  serializePreKeyPool,
  signedPreKeyRotationDue,
  type PublishedBundle,
} from '../crypto/index.ts';
import type { MessengerContext } from './context.ts';

/** Time between two rotation checks while running (a rotation is due every 7 days). */
export const SPK_ROTATION_CHECK_INTERVAL_MS = 60 * 60_000;
/** Meta key: the id of the signed prekey the relay was last given. */
export const META_PUBLISHED_SPK_ID = 'prekeys.publishedSpkId';

export interface SignedPreKeyUpload {
  isOnline(): boolean;
  publishPrekeys(bundle: PublishedBundle): Promise<unknown>;
}

export class SignedPreKeyRotation {
  private cancelTimer: (() => void) | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly relay: SignedPreKeyUpload,
  ) {}

  /** Starts the periodic checks (the first one is `check()`, called by the owner). */
  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
  }

  /** Rotates if due, then makes sure the relay has the current signed keys. One check at a time. */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.checking ??= this.run().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async run(): Promise<void> {
    const { ctx } = this;
    try {
      await ctx.lane.run(async () => {
        const identity = await ctx.store.loadIdentity();
        const now = ctx.clock.now();
        if (!identity || !signedPreKeyRotationDue(identity.signedPreKeysRotatedAt ?? identity.createdAt, now)) return;
        const { pool } = rotateSignedPreKeys(ctx.pool, ctx.identity, ctx.random);
        await ctx.store.savePreKeyPool(serializePreKeyPool(pool), { signedPreKeysRotatedAt: now });
        ctx.pool = pool;
        ctx.metrics.inc('prekeys.rotated');
        ctx.log.info('signed prekeys rotated', { spk: pool.data.signedPreKey.id });
      });
      await this.upload();
    } catch (err) {
      ctx.log.warn('signed prekey rotation failed', { error: err instanceof Error ? err.name : 'unknown' });
    }
  }

  /** Uploads the current signed keys unless the relay has them already. */
  private async upload(): Promise<void> {
    const { ctx } = this;
    if (!this.relay.isOnline()) return;
    const spk = ctx.pool.data.signedPreKey.id;
    if ((await ctx.store.getMeta(META_PUBLISHED_SPK_ID)) === spk) return;
    try {
      await this.relay.publishPrekeys(buildSignedPreKeyBundle(ctx.identity, ctx.pool));
      await ctx.store.setMeta(META_PUBLISHED_SPK_ID, spk);
      ctx.log.info('signed prekeys published', { spk });
    } catch (err) {
      ctx.log.warn('signed prekey upload failed; retried at the next check', { error: err instanceof Error ? err.message : 'unknown' });
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancelTimer = this.ctx.clock.setTimeout(() => {
      void this.check().finally(() => this.schedule());
    }, SPK_ROTATION_CHECK_INTERVAL_MS);
  }
}
