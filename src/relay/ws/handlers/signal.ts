import type { SignalSendFrame } from '../../../core/wire/index.ts';
import type { Connection } from '../connection.ts';
import { takeIpToken, type RelayContext } from '../relay-context.ts';

/**
 * `signal{to, blob}`: like deposits, signaling needs no sender identity (it is inside the
 * blob), so it is rate-limited per IP. An offline recipient is `not_found`, one that is
 * not reading its socket `overloaded` (see signaling.ts for why the sender is refused
 * rather than paused).
 */
export async function handleSignal(ctx: RelayContext, conn: Connection, frame: SignalSendFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('signal');
  if (!(await takeIpToken(ctx, conn, 'deposit'))) {
    ctx.sendError(conn, 'rate_limited', 'too many signals');
    return;
  }
  const outcome = await ctx.fanout.signal(frame);
  ctx.metrics.signals.inc({ result: outcome });
  if (outcome === 'offline') ctx.sendError(conn, 'not_found', 'recipient is not connected');
  else if (outcome === 'overloaded') ctx.sendError(conn, 'overloaded', 'recipient is not reading');
  timed();
}
