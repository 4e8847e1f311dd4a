import type { AuthFrame } from '../../../core/wire/index.ts';
import { DeliveryPump } from '../../mailbox/delivery-pump.ts';
import { CLOSE_POLICY, type Connection } from '../connection.ts';
import type { RelayContext } from '../relay-context.ts';
import { verifyAuth } from '../session-auth.ts';
import { mailboxKey } from '../session-registry.ts';
import { notifyPreKeysLow } from './prekeys.ts';

/**
 * `auth`: binds the connection to the mailbox its identity key hashes to, then sends
 * `ready{mailbox, queued}`, streams the backlog in order, and warns if prekeys run low.
 * A wrong answer closes the connection (its challenge is spent).
 */
export async function handleAuth(ctx: RelayContext, conn: Connection, frame: AuthFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('auth');
  const result = verifyAuth(conn, frame);
  if (!result.ok) {
    ctx.metrics.authentications.inc({ result: result.why });
    ctx.sendError(conn, 'auth_failed', result.why === 'already_authenticated' ? 'already authenticated' : 'challenge answer refused');
    if (result.why !== 'already_authenticated') conn.closeFor('auth_failed', CLOSE_POLICY, 'auth failed');
    return;
  }
  ctx.metrics.authentications.inc({ result: 'ok' });
  conn.mailbox = result.mailbox;
  conn.identityKey = frame.ik;
  conn.mailboxKey = mailboxKey(result.mailbox);
  // Bound (and, in a cluster, subscribed) before the backlog is read, so nothing committed in between is missed.
  await ctx.fanout.bind(conn);
  await ctx.mailboxes.claim(result.mailbox, ctx.now());
  const queued = await ctx.mailboxes.count(result.mailbox);
  if (!conn.open) return;
  conn.send({ t: 'ready', mailbox: result.mailbox, queued });
  timed();
  const pump = new DeliveryPump(conn, ctx.mailboxes, ctx.metrics, ctx.log);
  ctx.pumps.set(conn, pump);
  pump.kick();
  const counts = await ctx.prekeys.counts(frame.ik);
  if (counts) notifyPreKeysLow(ctx, [conn], counts);
  ctx.log.debug({ conn: conn.id, queued }, 'authenticated');
}
