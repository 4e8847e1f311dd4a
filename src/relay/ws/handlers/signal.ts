import type { SignalSendFrame } from '../../../core/wire/index.ts';
import type { Connection } from '../connection.ts';
import { takeIpToken, type RelayContext } from '../relay-context.ts';

/**
 * `signal{to, blob}`: like deposits, signaling needs no sender identity (it is inside the
 * blob), so it is rate-limited per IP, in its own bucket. The sender hears nothing back
 * whether the blob was forwarded, the mailbox is offline or its owner is not reading: an
 * answer that differed would tell any stranger whether a mailbox is online. Only the
 * relay's metrics (`petrel_signals_total{result}`) tell the cases apart.
 */
export async function handleSignal(ctx: RelayContext, conn: Connection, frame: SignalSendFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('signal');
  if (!(await takeIpToken(ctx, conn, 'signal'))) {
    ctx.sendError(conn, 'rate_limited', 'too many signals');
    return;
  }
  const outcome = await ctx.fanout.signal(frame);
  ctx.metrics.signals.inc({ result: outcome });
  timed();
}
