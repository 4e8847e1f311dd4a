import { WireError, decodeFrame, isFrameFrom, type ClientFrame } from '../../core/wire/index.ts';
import { takeTokens } from '../limits/token-bucket.ts';
import { CLOSE_POLICY, HIGH_WATER_BYTES, type Connection } from './connection.ts';
import { errorCodeFor } from './error-codes.ts';
import { handleAck } from './handlers/ack.ts';
import { handleAuth, handleDeviceAuth } from './handlers/auth.ts';
import { handleDevicesFetch, handleDevicesPublish, handleDevicesWatch } from './handlers/devices.ts';
import { handleSend } from './handlers/deposit.ts';
import { handleLinkData, handleLinkJoin, handleLinkOpen } from './handlers/link.ts';
import { handleSendMulti } from './handlers/deposit-multi.ts';
import { handleFetch, handlePublish } from './handlers/prekeys.ts';
import { handlePushRegister, handlePushUnregister } from './handlers/push.ts';
import { handleSignal } from './handlers/signal.ts';
import type { RelayContext } from './relay-context.ts';
import { issueChallenge } from './session-auth.ts';

/** Refused frames (invalid or over budget) a connection may send before it is closed. */
export const MAX_STRIKES = 50;

/**
 * Turns raw WebSocket messages into handled frames: per-connection budget first (before
 * any parsing), then the wire decoder, then the handler for the frame type. Every
 * refusal is an `error` frame plus a metric; nothing a client sends can throw out of here.
 */
export class FrameRouter {
  constructor(private readonly ctx: RelayContext) {}

  onOpen(conn: Connection): void {
    this.ctx.registry.add(conn);
    conn.send({ t: 'challenge', nonce: issueChallenge(conn) });
  }

  onClose(conn: Connection): void {
    this.ctx.fanout.unbind(conn);
    this.ctx.pumps.delete(conn);
    this.ctx.links.drop(conn);
  }

  onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    conn.alive = true;
    const { ctx } = this;
    if (ctx.isDraining()) {
      // Not accepted, so nothing is lost: the client retries on another connection.
      ctx.sendError(conn, 'overloaded', 'relay is shutting down');
      return;
    }
    if (!takeTokens(conn.frameBucket, { perSec: ctx.config.connFramesPerSec, burst: ctx.config.connFrameBurst }, ctx.now())) {
      ctx.metrics.rateLimited.inc({ bucket: 'connection' });
      this.strike(conn, 'rate_limited', 'too many frames');
      return;
    }
    // A client that does not read our answers is not read either, until it catches up.
    if (conn.buffered() >= HIGH_WATER_BYTES && conn.pauseReading()) {
      ctx.metrics.pausedReads.inc();
      conn.whenDrained(() => conn.resumeReading());
    }
    if (!isBinary) {
      ctx.metrics.rejectedFrames.inc({ reason: 'text_frame' });
      this.strike(conn, 'malformed', 'frames are binary CBOR');
      return;
    }
    let decoded;
    try {
      decoded = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { from: 'client', metrics: ctx.metrics.wire });
    } catch (err) {
      const reason = err instanceof WireError ? err.reason : 'malformed';
      this.strike(conn, errorCodeFor(reason), err instanceof WireError ? err.message : 'malformed frame');
      return;
    }
    // Decoded with origin `client`, so this holds; checked rather than cast.
    if (!isFrameFrom('client', decoded)) {
      this.strike(conn, 'malformed', 'not a client frame');
      return;
    }
    const frame = decoded;
    this.dispatch(conn, frame).catch((err: unknown) => {
      ctx.metrics.handlerFailures.inc({ where: 'ws_message' });
      ctx.log.error({ conn: conn.id, type: frame.t, err: err instanceof Error ? err.message : String(err) }, 'frame handler failed');
      ctx.sendError(conn, 'internal', 'internal error', 'rid' in frame ? frame.rid : undefined);
    });
  }

  /**
   * Refuses a frame with an error. The refusal past MAX_STRIKES is still answered (saying
   * the connection closes) and then the connection is closed 1008; frames still arriving
   * during the close handshake are dropped silently.
   */
  private strike(conn: Connection, code: Parameters<RelayContext['sendError']>[1], msg: string): void {
    conn.strikes++;
    if (conn.strikes <= MAX_STRIKES) {
      this.ctx.sendError(conn, code, msg);
      return;
    }
    if (conn.strikes > MAX_STRIKES + 1) return;
    this.ctx.sendError(conn, code, `${msg}; closing after ${MAX_STRIKES} refused frames`);
    conn.closeFor('refused_frames', CLOSE_POLICY, 'too many refused frames');
  }

  private async dispatch(conn: Connection, frame: ClientFrame): Promise<void> {
    const { ctx } = this;
    switch (frame.t) {
      case 'auth':
        return handleAuth(ctx, conn, frame);
      case 'auth.device':
        return handleDeviceAuth(ctx, conn, frame);
      case 'devices.publish':
        return handleDevicesPublish(ctx, conn, frame);
      case 'devices.fetch':
        return handleDevicesFetch(ctx, conn, frame);
      case 'devices.watch':
        return handleDevicesWatch(ctx, conn, frame);
      case 'send':
        return handleSend(ctx, conn, frame);
      case 'send.multi':
        return handleSendMulti(ctx, conn, frame);
      case 'ack':
        return handleAck(ctx, conn, frame);
      case 'prekeys.publish':
        return handlePublish(ctx, conn, frame);
      case 'prekeys.fetch':
        return handleFetch(ctx, conn, frame);
      case 'signal':
        return handleSignal(ctx, conn, frame);
      case 'push.register':
        return handlePushRegister(ctx, conn, frame);
      case 'push.unregister':
        return handlePushUnregister(ctx, conn, frame);
      case 'link.open':
        return handleLinkOpen(ctx, conn, frame);
      case 'link.join':
        return handleLinkJoin(ctx, conn, frame);
      case 'link.data':
        return handleLinkData(ctx, conn, frame);
      case 'ping':
        conn.send({ t: 'pong', rid: frame.rid });
        return;
    }
  }
}
