import type { SendFrame } from '../../../core/wire/index.ts';
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
 * `send{rid, env}`: no sender identity needed (the relay must not learn who sends).
 * Rate-limited per IP; the envelope is group-committed to disk and only then answered
 * with `sent{rid, id}`. A full mailbox answers `mailbox_full`. A retry of a stored
 * (mailbox, id) is answered `sent` without storing it twice. Online owners get it at once.
 */
export async function handleSend(ctx: RelayContext, conn: Connection, frame: SendFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('send');
  if (!(await takeIpToken(ctx, conn, 'deposit'))) {
    ctx.sendError(conn, 'rate_limited', 'too many deposits', frame.rid);
    return;
  }
  conn.inflight++;
  if (conn.inflight >= MAX_INFLIGHT_DEPOSITS && conn.pauseReading()) ctx.metrics.pausedReads.inc();
  try {
    const outcome = await ctx.batcher.deposit(frame.env);
    if (!outcome.ok) {
      ctx.metrics.deposits.inc({ result: outcome.reason });
      ctx.sendError(conn, 'mailbox_full', 'recipient mailbox is full', frame.rid);
      return;
    }
    ctx.metrics.deposits.inc({ result: outcome.duplicate ? 'duplicate' : 'stored' });
    await ctx.fanout.announce(frame.env, outcome.seq, outcome.prev, outcome.duplicate);
    conn.send({ t: 'sent', rid: frame.rid, id: frame.env.id });
    timed();
    if (!outcome.duplicate) {
      ctx.metrics.queueDepth.inc();
      ctx.fanout.deposited(frame.env, outcome.seq, outcome.prev);
    }
  } catch (err) {
    ctx.log.error({ conn: conn.id, err: err instanceof Error ? err.message : String(err) }, 'deposit failed');
    ctx.sendError(conn, 'internal', 'could not store the envelope', frame.rid);
  } finally {
    conn.inflight--;
    if (conn.readingPaused && conn.inflight < MAX_INFLIGHT_DEPOSITS / 2) conn.whenDrained(() => conn.resumeReading());
  }
}
