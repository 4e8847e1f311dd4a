import { judgeDeviceList, type DevicesFetchFrame, type DevicesPublishFrame, type DevicesWatchFrame, type ErrorCode } from '../../../core/wire/index.ts';
import type { DeviceListRefusal } from '../../../core/wire/index.ts';
import { verifyEd25519 } from '../../crypto/ed25519-verify.ts';
import type { Connection } from '../connection.ts';
import { takeIpToken, type RelayContext } from '../relay-context.ts';

/** Most accounts one connection may watch (`devices.watch`), its own included. */
export const MAX_WATCHED_PER_CONNECTION = 1024;

const REFUSAL_CODE: Readonly<Record<DeviceListRefusal, ErrorCode>> = {
  malformed: 'malformed',
  foreign_account: 'bad_signature',
  bad_signature: 'bad_signature',
  too_many_devices: 'too_many_devices',
  duplicate_device: 'malformed',
  stale: 'stale',
};

/**
 * `devices.publish{rid, list}`: a new signed device list for the connection's own account.
 * The list must be the account identity's (strict Ed25519) and pass judgeDeviceList, the
 * same verdict every client applies; the store then keeps versions strictly increasing
 * (a concurrent or replayed list at or below the stored version is `stale`) and, in the
 * same transaction, closes the mailboxes of the devices it no longer names. Watchers are
 * told once it is durable; the unlinked devices' connections are closed.
 */
export async function handleDevicesPublish(ctx: RelayContext, conn: Connection, frame: DevicesPublishFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('devices.publish');
  const account = conn.identityKey;
  if (!account) {
    ctx.sendError(conn, 'unauthenticated', 'publishing a device list needs an authenticated account', frame.rid);
    return;
  }
  const stored = await ctx.devices.get(account);
  const verdict = judgeDeviceList(frame.list, stored ? { account, knownVersion: stored.version } : { account }, verifyEd25519);
  if (!verdict.ok) {
    ctx.metrics.deviceListPublishes.inc({ result: verdict.refusal });
    ctx.sendError(conn, REFUSAL_CODE[verdict.refusal], `device list refused: ${verdict.detail}`, frame.rid);
    return;
  }
  const { list } = verdict;
  const outcome = await ctx.devices.publish(account, { version: list.version, body: frame.list.body, sig: frame.list.sig, devices: list.devices }, ctx.now());
  if (!outcome.ok) {
    ctx.metrics.deviceListPublishes.inc({ result: 'stale' });
    ctx.sendError(conn, 'stale', `device list refused: version ${list.version} is not above the stored ${outcome.version}`, frame.rid);
    return;
  }
  ctx.metrics.deviceListPublishes.inc({ result: 'ok' });
  ctx.metrics.devicesUnlinked.inc(outcome.removed.length);
  conn.send({ t: 'devices.published', rid: frame.rid, version: list.version });
  timed();
  await ctx.fanout.devicesChanged(account, list.version, outcome.removed);
}

/** `devices.fetch{rid, ik}`: anyone may fetch an account's signed list (within the per-IP fetch budget); `not_found` for a single-device account. */
export async function handleDevicesFetch(ctx: RelayContext, conn: Connection, frame: DevicesFetchFrame): Promise<void> {
  const timed = ctx.metrics.timeRequest('devices.fetch');
  if (!(await takeIpToken(ctx, conn, 'fetch'))) {
    ctx.sendError(conn, 'rate_limited', 'too many fetches', frame.rid);
    return;
  }
  const stored = await ctx.devices.get(frame.ik);
  if (!stored) {
    ctx.metrics.deviceListFetches.inc({ result: 'not_found' });
    ctx.sendError(conn, 'not_found', 'no device list for this account (a single-device account)', frame.rid);
    return;
  }
  ctx.metrics.deviceListFetches.inc({ result: 'ok' });
  conn.send({ t: 'devices.list', rid: frame.rid, list: { body: stored.body, sig: stored.sig } });
  timed();
}

/** `devices.watch{rid, iks}`: `devices.changed` for these accounts while the connection lasts, up to MAX_WATCHED_PER_CONNECTION accounts. */
export async function handleDevicesWatch(ctx: RelayContext, conn: Connection, frame: DevicesWatchFrame): Promise<void> {
  const fresh = new Set(frame.iks.map((ik) => Buffer.from(ik).toString('hex')).filter((k) => !conn.watching.has(k)));
  if (conn.watching.size + fresh.size > MAX_WATCHED_PER_CONNECTION) {
    ctx.metrics.rateLimited.inc({ bucket: 'device_watch' });
    ctx.sendError(conn, 'rate_limited', `a connection watches at most ${MAX_WATCHED_PER_CONNECTION} accounts`, frame.rid);
    return;
  }
  for (const key of fresh) await ctx.fanout.watch(conn, new Uint8Array(Buffer.from(key, 'hex')));
  conn.send({ t: 'devices.watching', rid: frame.rid, count: conn.watching.size });
}
