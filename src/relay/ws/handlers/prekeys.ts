import { bytesEqualTimingSafe } from '../../crypto/bytes-equal.ts';
import { deviceMailboxAddress, mailboxAddress, type PreKeysFetchFrame, type PreKeysPublishFrame } from '../../../core/wire/index.ts';
import { firstBadSignature } from '../../prekeys/bundle-verification.ts';
import type { PreKeyCounts } from '../../prekeys/prekey-store.ts';
import type { Connection } from '../connection.ts';
import { takeIpToken, type RelayContext } from '../relay-context.ts';
import { mailboxKey } from '../session-registry.ts';

/** Tells the owner's connections that a one-time pool is below the threshold. */
export function notifyPreKeysLow(ctx: RelayContext, owners: readonly Connection[], counts: PreKeyCounts): void {
  const threshold = ctx.config.prekeyLowThreshold;
  if (counts.opks >= threshold && counts.pqopks >= threshold) return;
  for (const owner of owners) owner.send({ t: 'prekeys.low', opks: counts.opks, pqopks: counts.pqopks });
}

/**
 * `prekeys.publish{rid, bundle}`: only for the connection's own identity, and only with
 * valid signatures on the signed prekey, the last-resort PQ key and every PQ one-time key.
 * From a device (`auth.device`) the bundle is that device's: it is stored under the
 * device's mailbox address, so each device has its own pools.
 */
export async function handlePublish(ctx: RelayContext, conn: Connection, frame: PreKeysPublishFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('prekeys.publish');
  if (!conn.identityKey) {
    ctx.sendError(conn, 'unauthenticated', 'publishing prekeys needs an authenticated identity', frame.rid);
    return;
  }
  if (!bytesEqualTimingSafe(frame.bundle.ik, conn.identityKey)) {
    ctx.metrics.prekeyPublishes.inc({ result: 'foreign_identity' });
    ctx.sendError(conn, 'bad_signature', 'bundle identity is not the authenticated identity', frame.rid);
    return;
  }
  const bad = firstBadSignature(frame.bundle);
  if (bad) {
    ctx.metrics.prekeyPublishes.inc({ result: 'bad_signature' });
    ctx.sendError(conn, 'bad_signature', `invalid signature on ${bad}`, frame.rid);
    return;
  }
  // A device's keys are its own: kept under its mailbox address, the account's under IK.
  const owner = conn.deviceId ? deviceMailboxAddress(conn.identityKey, conn.deviceId) : frame.bundle.ik;
  const outcome = await ctx.prekeys.publish({ ...frame.bundle, ik: owner }, ctx.config.prekeyPoolMax, ctx.now());
  if (!outcome.ok) {
    ctx.metrics.prekeyPublishes.inc({ result: 'pool_full' });
    ctx.sendError(conn, 'pool_full', `prekey pool would exceed ${ctx.config.prekeyPoolMax} keys`, frame.rid);
    return;
  }
  ctx.metrics.prekeyPublishes.inc({ result: 'ok' });
  conn.send({ t: 'prekeys.published', rid: frame.rid, opks: outcome.counts.opks, pqopks: outcome.counts.pqopks });
  timed();
}

/**
 * `prekeys.fetch{rid, ik}`: anyone may fetch, within two budgets: the requester's IP, and
 * the TARGET identity's (whoever asks, so several addresses together cannot drain one
 * person). Past the identity's one-time-key budget the fetch still succeeds, with the
 * last-resort keys only (no X25519 one-time key, the last-resort ML-KEM key): the pool
 * is kept for the people who really start sessions, and the owner is not pushed into
 * uploading again and again. Hands out at most one of each one-time key, atomically.
 */
export async function handleFetch(ctx: RelayContext, conn: Connection, frame: PreKeysFetchFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('prekeys.fetch');
  const { config } = ctx;
  if (!(await takeIpToken(ctx, conn, 'fetch'))) {
    ctx.sendError(conn, 'rate_limited', 'too many bundle fetches', frame.rid);
    return;
  }
  // One device's bundle (`dev`), kept under its mailbox address; an unlinked device's are gone.
  const owner = frame.dev ? deviceMailboxAddress(frame.ik, frame.dev) : frame.ik;
  if (frame.dev && (await ctx.devices.isClosed(owner))) {
    ctx.metrics.prekeyFetches.inc({ result: 'device_unlinked' });
    ctx.sendError(conn, 'device_unlinked', 'this device was unlinked; fetch the account\'s device list', frame.rid);
    return;
  }
  // Unknown identities are answered before any per-identity bucket exists, so fetching
  // random keys cannot fill the rate-limit store with buckets of nobody.
  if (!(await ctx.prekeys.counts(owner))) {
    ctx.metrics.prekeyFetches.inc({ result: 'not_found' });
    ctx.sendError(conn, 'not_found', 'no bundle published for this identity', frame.rid);
    return;
  }
  const mailbox = frame.dev ? owner : mailboxAddress(frame.ik);
  const target = mailboxKey(mailbox);
  const now = ctx.now();
  if (!(await ctx.rateLimits.take(`target:${target}:fetch`, { perSec: config.targetFetchesPerMin / 60, burst: config.targetFetchBurst }, now))) {
    ctx.metrics.rateLimited.inc({ bucket: 'target_fetch' });
    ctx.sendError(conn, 'rate_limited', 'too many bundle fetches for this identity', frame.rid);
    return;
  }
  const oneTime = await ctx.rateLimits.take(`target:${target}:one_time`, { perSec: config.oneTimeKeysPerHour / 3600, burst: config.oneTimeKeyBurst }, now);
  const taken = await ctx.prekeys.takeBundle(owner, { oneTime });
  if (!taken) {
    ctx.metrics.prekeyFetches.inc({ result: 'not_found' });
    ctx.sendError(conn, 'not_found', 'no bundle published for this identity', frame.rid);
    return;
  }
  ctx.metrics.prekeyFetches.inc({ result: !oneTime ? 'last_resort_budget' : taken.bundle.opk ? 'opk' : 'no_opk' });
  conn.send({ t: 'prekeys.bundle', rid: frame.rid, bundle: { ...taken.bundle, ik: frame.ik } });
  timed();
  const low = ctx.config.prekeyLowThreshold;
  if (taken.remaining.opks < low || taken.remaining.pqopks < low) ctx.fanout.prekeysLow(mailbox, taken.remaining);
}
