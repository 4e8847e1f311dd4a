import type { LinkDataFrame, LinkJoinFrame, LinkOpenFrame } from '../../../core/wire/index.ts';
import type { LinkRefusal } from '../../link/link-channels.ts';
import { HIGH_WATER_BYTES, type Connection } from '../connection.ts';
import type { RelayContext } from '../relay-context.ts';

/**
 * The link channel frames (docs/PROTOCOL.md §13.6): `link.open` (the existing device holds
 * a channel), `link.join` (the new device meets it there), `link.data` (opaque bytes to the
 * other end). Both ends must be authenticated connections (the new device authenticates
 * with its fresh device key, as any key may). Each refusal is an error frame and
 * `petrel_link_refusals_total{reason}`; nothing a client sends here can throw.
 */
export function handleLinkOpen(ctx: RelayContext, conn: Connection, frame: LinkOpenFrame): void {
  if (!conn.authenticated) return refuse(ctx, conn, 'unauthenticated', frame.rid);
  const refusal = ctx.links.open(conn, frame.ch);
  if (refusal) return refuse(ctx, conn, refusal, frame.rid);
  ctx.metrics.linkChannels.inc({ event: 'opened' });
  conn.send({ t: 'link.opened', rid: frame.rid });
}

export function handleLinkJoin(ctx: RelayContext, conn: Connection, frame: LinkJoinFrame): void {
  if (!conn.authenticated) return refuse(ctx, conn, 'unauthenticated', frame.rid);
  const refusal = ctx.links.join(conn, frame.ch);
  if (refusal) return refuse(ctx, conn, refusal, frame.rid);
  ctx.metrics.linkChannels.inc({ event: 'joined' });
  conn.send({ t: 'link.joined', rid: frame.rid });
}

export function handleLinkData(ctx: RelayContext, conn: Connection, frame: LinkDataFrame): void {
  if (!conn.authenticated) return refuse(ctx, conn, 'unauthenticated');
  const routed = ctx.links.route(conn, frame.ch, frame.data.length);
  if ('refused' in routed) return refuse(ctx, conn, routed.refused);
  const { to } = routed;
  ctx.metrics.linkBytes.inc(frame.data.length);
  to.send({ t: 'link.data', ch: frame.ch, data: frame.data });
  // The receiving end reads slower than this end sends: stop reading this end until it catches up.
  if (to.buffered() >= HIGH_WATER_BYTES && conn.pauseReading()) {
    ctx.metrics.pausedReads.inc();
    to.whenDrained(() => conn.resumeReading());
  }
}

const MESSAGES: Record<LinkRefusal | 'unauthenticated', string> = {
  unauthenticated: 'link channels need an authenticated connection',
  busy: 'this link channel is already in use',
  not_found: 'no device is waiting on this link channel',
  too_many_channels: 'too many link channels on this connection',
  over_budget: 'this link channel carried all it may',
  not_member: 'not a member of this link channel',
  no_peer: 'nobody has joined this link channel yet',
  expired: 'this link channel expired',
};

function refuse(ctx: RelayContext, conn: Connection, reason: LinkRefusal | 'unauthenticated', rid?: number): void {
  ctx.metrics.linkRefusals.inc({ reason });
  const code = reason === 'unauthenticated' ? 'unauthenticated' : reason === 'busy' ? 'link_busy' : reason === 'not_found' || reason === 'not_member' || reason === 'no_peer' || reason === 'expired' ? 'not_found' : 'link_limit';
  ctx.sendError(conn, code, MESSAGES[reason], rid);
}
