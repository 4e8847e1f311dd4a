import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionLimiter, type ConnectionRefusal } from '../limits/connection-limiter.ts';

/**
 * Caps on open TCP connections that are not WebSockets (yet): in total and per peer IP.
 * Each accepted socket holds one slot until it closes or is upgraded to a WebSocket (the
 * WebSocket caps take over then). A connection over a cap is dropped at once, before any
 * byte is parsed, so slowly sent requests from one address cannot take every descriptor.
 * Behind a trusted proxy every peer is the proxy, so only the total cap applies there.
 */
export class HttpConnectionSlots {
  private readonly limiter: ConnectionLimiter;
  private readonly held = new WeakMap<Socket, string>();

  constructor(
    maxTotal: number,
    maxPerIp: number,
    private readonly perIpApplies: boolean,
  ) {
    this.limiter = new ConnectionLimiter(maxTotal, perIpApplies ? maxPerIp : maxTotal);
  }

  /** Counts every new connection on `server`; `refused(reason)` is told about each dropped one. */
  attach(server: Server, refused: (reason: ConnectionRefusal) => void): void {
    server.on('connection', (socket: Socket) => {
      const ip = this.perIpApplies ? (socket.remoteAddress ?? 'unknown') : 'proxy';
      const refusal = this.limiter.acquire(ip);
      if (refusal) {
        refused(refusal);
        socket.destroy();
        return;
      }
      this.held.set(socket, ip);
      socket.once('close', () => this.release(socket));
    });
  }

  /** Gives the socket's slot back (on close, or when it became a WebSocket). Idempotent. */
  release(socket: Socket): void {
    const ip = this.held.get(socket);
    if (ip === undefined) return;
    this.held.delete(socket);
    this.limiter.release(ip);
  }

  count(): number {
    return this.limiter.count();
  }
}
