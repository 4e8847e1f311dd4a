import type { AuthFrame, DeviceAuthFrame } from '../../../core/wire/index.ts';
import { deviceMailboxAddress } from '../../../core/wire/index.ts';
import { bytesEqualTimingSafe } from '../../crypto/bytes-equal.ts';
import { DeliveryPump } from '../../mailbox/delivery-pump.ts';
import { CLOSE_POLICY, type Connection } from '../connection.ts';
import type { RelayContext } from '../relay-context.ts';
import { verifyAuth, verifyDeviceAuth } from '../session-auth.ts';
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
    refuse(ctx, conn, result.why);
    return;
  }
  await bindAuthenticated(ctx, conn, { mailbox: result.mailbox, account: frame.ik, prekeyOwner: frame.ik }, timed);
}

/**
 * `auth.device{cert, sig}`: one device of a multi-device account. The certificate must be
 * the account identity's (strict Ed25519), the answer the device key's, and the account's
 * stored device list must still name this device with this key: a device the list no
 * longer has (unlinked) or never had is refused, and its connection closed.
 */
export async function handleDeviceAuth(ctx: RelayContext, conn: Connection, frame: DeviceAuthFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('auth');
  const result = verifyDeviceAuth(conn, frame);
  if (!result.ok) {
    refuse(ctx, conn, result.why);
    return;
  }
  const { account, id, key } = frame.cert;
  const listed = await ctx.devices.deviceKey(account, id);
  if (!listed || !bytesEqualTimingSafe(listed, key)) {
    refuse(ctx, conn, 'device_not_listed');
    return;
  }
  conn.deviceId = id;
  const mailbox = deviceMailboxAddress(account, id);
  await bindAuthenticated(ctx, conn, { mailbox, account, prekeyOwner: mailbox }, timed);
}

function refuse(ctx: RelayContext, conn: Connection, why: string): void {
  ctx.metrics.authentications.inc({ result: why });
  if (why === 'device_not_listed') {
    // Not (or no longer) in its account's list: said as such, so the device knows it was unlinked and stops trying.
    ctx.sendError(conn, 'device_unlinked', "device not in the account's device list");
    conn.closeFor('device_unlinked', CLOSE_POLICY, 'device unlinked');
    return;
  }
  ctx.sendError(conn, 'auth_failed', why === 'already_authenticated' ? 'already authenticated' : why === 'device_not_listed' ? 'device not in the account\'s device list' : 'challenge answer refused');
  if (why !== 'already_authenticated') conn.closeFor('auth_failed', CLOSE_POLICY, 'auth failed');
}

interface Binding {
  readonly mailbox: Uint8Array;
  readonly account: Uint8Array;
  /** The key the connection's prekeys are kept under (IK for a single-device account, the device's mailbox address for a device). */
  readonly prekeyOwner: Uint8Array;
}

async function bindAuthenticated(ctx: RelayContext, conn: Connection, b: Binding, timed: () => void): Promise<void> {
  conn.mailbox = b.mailbox;
  conn.identityKey = b.account;
  conn.mailboxKey = mailboxKey(b.mailbox);
  // Bound (and, in a cluster, subscribed) before the backlog is read, so nothing committed in between is missed.
  await ctx.fanout.bind(conn);
  // Every connection of an account hears of its device-list changes (and an unlinked device is closed by them).
  await ctx.fanout.watch(conn, b.account);
  // An unlink committed between the device check and the watch would have found no one to close: look again.
  if (conn.deviceId && !(await ctx.devices.deviceKey(b.account, conn.deviceId))) {
    ctx.metrics.authentications.inc({ result: 'device_not_listed' });
    conn.closeFor('device_unlinked', CLOSE_POLICY, 'device unlinked');
    return;
  }
  ctx.metrics.authentications.inc({ result: conn.deviceId ? 'ok_device' : 'ok' });
  await ctx.mailboxes.claim(b.mailbox, ctx.now());
  const queued = await ctx.mailboxes.count(b.mailbox);
  if (!conn.open) return;
  conn.send({ t: 'ready', mailbox: b.mailbox, queued });
  timed();
  const pump = new DeliveryPump(conn, ctx.mailboxes, ctx.metrics, ctx.log);
  ctx.pumps.set(conn, pump);
  pump.kick();
  const counts = await ctx.prekeys.counts(b.prekeyOwner);
  if (counts) notifyPreKeysLow(ctx, [conn], counts);
  ctx.log.debug({ conn: conn.id, queued }, 'authenticated');
}
