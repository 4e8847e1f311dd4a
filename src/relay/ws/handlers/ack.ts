import type { AckFrame } from '../../../core/wire/index.ts';
import type { Connection } from '../connection.ts';
import type { RelayContext } from '../relay-context.ts';

/**
 * `ack{ids}`: the authenticated owner has durably stored these envelopes; delete them
 * from ITS mailbox only (ids in other mailboxes are untouched). Unknown ids are ignored,
 * so acks are idempotent.
 */
export async function handleAck(ctx: RelayContext, conn: Connection, frame: AckFrame): Promise<void> {
  if (!conn.mailbox) {
    ctx.sendError(conn, 'unauthenticated', 'ack needs an authenticated mailbox');
    return;
  }
  const timed = ctx.metrics.timeRequest('ack');
  const depositedAt = await ctx.batcher.ack(conn.mailbox, frame.ids);
  timed();
  const now = ctx.now();
  ctx.metrics.acks.inc(depositedAt.length);
  ctx.metrics.queueDepth.dec(depositedAt.length);
  for (const t of depositedAt) ctx.metrics.ackLatency.observe(Math.max(0, now - t) / 1000);
}
