import type { PushRegisterFrame, PushUnregisterFrame } from '../../../core/wire/index.ts';
import { checkPushSubscription } from '../../push/push-endpoint.ts';
import type { Connection } from '../connection.ts';
import type { RelayContext } from '../relay-context.ts';

/**
 * `push.register{rid, endpoint, p256dh, auth}`: stores the Web Push subscription of the
 * connection's own mailbox (one per device; a new one replaces the old). Only an
 * authenticated connection may, and only a subscription checkPushSubscription accepts:
 * anything else is refused `bad_push_subscription` with nothing stored, and counted.
 */
export async function handlePushRegister(ctx: RelayContext, conn: Connection, frame: PushRegisterFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('push.register');
  if (!conn.mailbox) {
    ctx.metrics.pushRegistrations.inc({ result: 'unauthenticated' });
    ctx.sendError(conn, 'unauthenticated', 'registering a push subscription needs an authenticated device', frame.rid);
    return;
  }
  const check = checkPushSubscription(frame.endpoint, frame.p256dh, ctx.config.push.allowLoopback);
  if (!check.ok) {
    ctx.metrics.pushRegistrations.inc({ result: check.refusal });
    ctx.sendError(conn, 'bad_push_subscription', `push subscription refused: ${check.detail}`, frame.rid);
    return;
  }
  await ctx.pushStore.register(conn.mailbox, { endpoint: frame.endpoint, p256dh: frame.p256dh, auth: frame.auth }, ctx.now());
  ctx.metrics.pushRegistrations.inc({ result: 'registered' });
  conn.send({ t: 'push.registered', rid: frame.rid });
  timed();
}

/** `push.unregister{rid}`: deletes the connection's mailbox's subscription (answered the same whether there was one). */
export async function handlePushUnregister(ctx: RelayContext, conn: Connection, frame: PushUnregisterFrame): Promise<void> {
  if (!conn.mailbox) {
    ctx.metrics.pushRegistrations.inc({ result: 'unauthenticated' });
    ctx.sendError(conn, 'unauthenticated', 'removing a push subscription needs an authenticated device', frame.rid);
    return;
  }
  await ctx.pushStore.remove(conn.mailbox);
  ctx.metrics.pushRegistrations.inc({ result: 'unregistered' });
  conn.send({ t: 'push.unregistered', rid: frame.rid });
}
