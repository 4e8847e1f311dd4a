import type { ErrorCode, LinkDataFrame, LinkJoinFrame, LinkOpenFrame } from '../../../core/wire/index.ts';
import type { LinkRefusal } from '../../link/link-rendezvous.ts';
import type { Connection } from '../connection.ts';
import type { RelayContext } from '../relay-context.ts';

/**
 * The link channel frames (docs/PROTOCOL.md §13.6): `link.open` (the existing device holds
 * a channel), `link.join` (the new device meets it there), `link.data` (opaque bytes to the
 * other end). Both ends must be authenticated connections (the new device authenticates
 * with its fresh device key, as any key may); on a cluster the two may be on different
 * nodes (RedisLinkChannels). Each refusal is an error frame and
 * `petrel_link_refusals_total{reason}`; nothing a client sends here can throw.
 */
export function handleLinkOpen(ctx: RelayContext, conn: Connection, frame: LinkOpenFrame): void {
  if (!conn.authenticated) return refuse(ctx, conn, 'unauthenticated', frame.rid);
  ctx.links.open(conn, frame.ch, (refusal) => {
    if (refusal) return refuse(ctx, conn, refusal, frame.rid);
    ctx.metrics.linkChannels.inc({ event: 'opened' });
    conn.send({ t: 'link.opened', rid: frame.rid });
  });
}

export function handleLinkJoin(ctx: RelayContext, conn: Connection, frame: LinkJoinFrame): void {
  if (!conn.authenticated) return refuse(ctx, conn, 'unauthenticated', frame.rid);
  ctx.links.join(conn, frame.ch, (refusal) => {
    if (refusal) return refuse(ctx, conn, refusal, frame.rid);
    ctx.metrics.linkChannels.inc({ event: 'joined' });
    conn.send({ t: 'link.joined', rid: frame.rid });
  });
}

export function handleLinkData(ctx: RelayContext, conn: Connection, frame: LinkDataFrame): void {
  if (!conn.authenticated) return refuse(ctx, conn, 'unauthenticated');
  ctx.links.relay(conn, frame.ch, frame.data, (refusal) => {
    if (refusal) return refuse(ctx, conn, refusal);
    ctx.metrics.linkBytes.inc(frame.data.length);
  });
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
  unavailable: 'link channels are unavailable right now; try again',
};

const ERROR_CODE: Record<LinkRefusal | 'unauthenticated', ErrorCode> = {
  unauthenticated: 'unauthenticated',
  busy: 'link_busy',
  not_found: 'not_found',
  not_member: 'not_found',
  no_peer: 'not_found',
  expired: 'not_found',
  too_many_channels: 'link_limit',
  over_budget: 'link_limit',
  unavailable: 'overloaded',
};

function refuse(ctx: RelayContext, conn: Connection, reason: LinkRefusal | 'unauthenticated', rid?: number): void {
  ctx.metrics.linkRefusals.inc({ reason });
  const code = ERROR_CODE[reason];
  ctx.sendError(conn, code, MESSAGES[reason], rid);
}
