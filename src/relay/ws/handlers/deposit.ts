import type { Envelope, SendFrame } from '../../../core/wire/index.ts';
import { fullBucket, takeTokens } from '../../limits/token-bucket.ts';
import type { DepositOutcome } from '../../mailbox/mailbox-store.ts';
import type { Connection } from '../connection.ts';
import { takeIpToken, type RelayContext } from '../relay-context.ts';

/**
 * Deposits one client may have waiting for the disk before the relay stops reading its
 * socket. This is the only reason a deposit pauses its sender: a slow RECIPIENT never
 * does, because the envelope is durable before `sent` and its delivery pump only pushes
 * while the recipient's socket is under HIGH_WATER_BYTES, resuming when it drains.
 */
export const MAX_INFLIGHT_DEPOSITS = 64;

/**
 * The deposit budgets a sender must fit in, cheapest first: this connection's count and
 * bytes (in memory), then its IP's count and bytes (in the rate-limit store). Returns the
 * bucket that refused, or undefined. Deposits are anonymous, so these budgets, the mailbox
 * caps and the global storage cap are what bound what one sender can cost.
 */
export async function depositBudget(ctx: RelayContext, conn: Connection, bytes: number): Promise<string | undefined> {
  const { config } = ctx;
  const now = ctx.now();
  const countRule = { perSec: config.connDepositsPerSec, burst: config.connDepositBurst };
  const byteRule = { perSec: config.connDepositBytesPerSec, burst: config.connDepositByteBurst };
  conn.depositBucket ??= fullBucket(countRule, now);
  conn.depositByteBucket ??= fullBucket(byteRule, now);
  if (!takeTokens(conn.depositBucket, countRule, now)) return 'conn_deposit';
  if (!takeTokens(conn.depositByteBucket, byteRule, now, bytes)) return 'conn_deposit_bytes';
  if (!(await takeIpToken(ctx, conn, 'deposit'))) return 'ip';
  if (!(await takeIpToken(ctx, conn, 'deposit_bytes', bytes))) return 'ip';
  return undefined;
}

/**
 * `send{rid, env}`: no sender identity needed (the relay must not learn who sends).
 * Within the deposit budgets (per connection and per IP, in count and bytes); the envelope
 * is group-committed to disk and only then answered with `sent{rid, id}`. A full mailbox
 * answers `mailbox_full`, a relay at its global storage cap `overloaded`. A retry of a
 * stored (mailbox, id) is answered `sent` without storing it twice. Online owners get it at once;
 * a mailbox with no connection on any node gets a Web Push wake (PushNotifier), after `sent`.
 * A deposit to the mailbox of an unlinked device is refused `device_unlinked` by the group
 * commit itself (nothing stored; see PROTOCOL.md §13.4). A deposit whose `dl` names an
 * older device list of the recipient's account than the one stored is refused
 * `stale_devices` with the current signed list (nothing stored; PROTOCOL.md §13.5): the
 * sender covers the devices it did not know and sends again.
 */
export async function handleSend(ctx: RelayContext, conn: Connection, frame: SendFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('send');
  ctx.trace?.mark('relay.received');
  // Budget checks of successive frames run side by side, but each frame enters the batcher
  // only after the one before it: the batcher keeps arrival order from there on.
  const previous = conn.depositTurn;
  let endTurn!: () => void;
  conn.depositTurn = new Promise<void>((resolve) => (endTurn = resolve));
  let stored: Promise<DepositOutcome>;
  try {
    const refused = await depositBudget(ctx, conn, frame.env.body.length);
    await previous;
    if (refused) {
      if (refused.startsWith('conn')) ctx.metrics.rateLimited.inc({ bucket: refused });
      ctx.sendError(conn, 'rate_limited', 'too many deposits', frame.rid);
      return;
    }
    stored = ctx.batcher.deposit(frame.env, frame.dl);
  } finally {
    endTurn();
  }
  conn.inflight++;
  if (conn.inflight >= MAX_INFLIGHT_DEPOSITS && conn.pauseReading()) ctx.metrics.pausedReads.inc();
  try {
    const outcome = await stored;
    ctx.trace?.mark('relay.committed');
    if (!outcome.ok && outcome.reason === 'stale_devices') {
      await refuseStale(ctx, conn, frame);
      return;
    }
    if (!outcome.ok) {
      ctx.metrics.deposits.inc({ result: outcome.reason });
      if (outcome.reason === 'storage_full') ctx.sendError(conn, 'overloaded', 'relay storage is full; retry later', frame.rid);
      else if (outcome.reason === 'device_unlinked') ctx.sendError(conn, 'device_unlinked', "the recipient device was unlinked; fetch the account's device list", frame.rid);
      else ctx.sendError(conn, 'mailbox_full', 'recipient mailbox is full', frame.rid);
      return;
    }
    const announced = await announceStored(ctx, frame.env, outcome);
    conn.send({ t: 'sent', rid: frame.rid, id: frame.env.id });
    timed();
    const asleep = announced();
    if (asleep) ctx.push.wake(asleep);
    ctx.trace?.mark('relay.pushed');
  } catch (err) {
    ctx.log.error({ conn: conn.id, err: err instanceof Error ? err.message : String(err) }, 'deposit failed');
    ctx.sendError(conn, 'internal', 'could not store the envelope', frame.rid);
  } finally {
    conn.inflight--;
    if (conn.readingPaused && conn.inflight < MAX_INFLIGHT_DEPOSITS / 2) conn.whenDrained(() => conn.resumeReading());
  }
}

/**
 * The group commit refused the deposit: the recipient account's stored list is newer than
 * the version the sender fanned out under (`dl.v`, 0 = no list), checked inside the
 * transaction that would have stored it. The sender gets the current list (read now: at
 * least that new).
 */
async function refuseStale(ctx: RelayContext, conn: Connection, frame: SendFrame): Promise<void> {
  const current = await ctx.devices.get(frame.dl!.ik);
  ctx.metrics.deposits.inc({ result: 'stale_devices' });
  if (!current) {
    ctx.sendError(conn, 'internal', 'could not read the device list', frame.rid);
    return;
  }
  ctx.metrics.errorsSent.inc({ code: 'stale_devices' });
  conn.send({ t: 'error', code: 'stale_devices', rid: frame.rid, msg: `the recipient account's device list is at version ${current.version}`, list: { body: current.body, sig: current.sig } });
}

/**
 * After a durable deposit: counts it and tells the other nodes (awaited, before the sender
 * hears `sent`); the returned function, called after `sent`, hands a new envelope to the
 * delivery pumps and returns its mailbox when no connection of it exists anywhere: the
 * caller wakes that device by Web Push (never waiting, never failing the deposit; a
 * `send.multi` wakes all its sleeping recipients with one subscription look-up).
 */
export async function announceStored(ctx: RelayContext, env: Envelope, outcome: DepositOutcome & { ok: true }): Promise<() => Uint8Array | undefined> {
  ctx.metrics.deposits.inc({ result: outcome.duplicate ? 'duplicate' : 'stored' });
  const elsewhere = await ctx.fanout.announce(env, outcome.seq, outcome.prev, outcome.duplicate);
  return () => {
    if (outcome.duplicate) return undefined;
    ctx.metrics.queueDepth.inc();
    ctx.fanout.deposited(env, outcome.seq, outcome.prev);
    return !elsewhere && !ctx.fanout.hasLocalOwner(env.to) ? env.to : undefined;
  };
}
