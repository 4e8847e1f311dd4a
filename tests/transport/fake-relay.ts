/**
 * A minimal relay speaking the real wire format over a real `ws` server on loopback:
 * challenge/auth with Ed25519 verification, store-and-forward mailboxes in memory
 * (kept across `restart()`, standing in for the disk), push to live recipients,
 * ack-deletes, ping/pong, prekeys and signaling. Knobs let tests make it misbehave.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { toHex } from '../../src/core/bytes.ts';
import {
  authPayload,
  decodeFrame,
  encodeFrame,
  mailboxAddress,
  type ClientFrame,
  type Envelope,
  type ErrorCode,
  type FetchedBundle,
  type PublishedBundle,
  type RelayFrame,
} from '../../src/core/wire/index.ts';

interface Conn {
  readonly ws: WebSocket;
  nonce: Uint8Array;
  mailbox?: string;
}

export class FakeRelay {
  /** mailbox hex -> envelopes in arrival order (id hex -> envelope). */
  readonly mailboxes = new Map<string, Map<string, Envelope>>();
  readonly received: ClientFrame[] = [];
  readonly bundles = new Map<string, PublishedBundle>();
  private server: WebSocketServer | undefined;
  private readonly conns = new Set<Conn>();
  port = 0;

  // Misbehaviour knobs.
  answerPings = true;
  answerSends = true;
  failSendsWith: ErrorCode | undefined;
  rejectAuth = false;

  async start(port = 0): Promise<this> {
    const server = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    server.on('connection', (ws) => this.onConnection(ws));
    return this;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Kills every connection and the listener (like a crash); the mailboxes survive. */
  async stop(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start(this.port);
  }

  /** Drops every connection without closing the listener. */
  dropConnections(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  /** Sends raw bytes to every authenticated connection (hostile-input tests). */
  sendRaw(bytes: Uint8Array): void {
    for (const c of this.conns) if (c.mailbox) c.ws.send(bytes);
  }

  queued(mailbox: Uint8Array): number {
    return this.mailboxes.get(toHex(mailbox))?.size ?? 0;
  }

  framesOfType<T extends ClientFrame['t']>(t: T): Extract<ClientFrame, { t: T }>[] {
    return this.received.filter((f): f is Extract<ClientFrame, { t: T }> => f.t === t);
  }

  get connections(): number {
    return this.conns.size;
  }

  private onConnection(ws: WebSocket): void {
    const conn: Conn = { ws, nonce: new Uint8Array(randomBytes(32)) };
    this.conns.add(conn);
    ws.on('close', () => this.conns.delete(conn));
    ws.on('message', (data: Buffer) => this.onMessage(conn, new Uint8Array(data)));
    this.send(conn, { t: 'challenge', nonce: conn.nonce });
  }

  private send(conn: Conn, frame: RelayFrame): void {
    conn.ws.send(encodeFrame(frame));
  }

  private box(mailbox: string): Map<string, Envelope> {
    let box = this.mailboxes.get(mailbox);
    if (!box) this.mailboxes.set(mailbox, (box = new Map()));
    return box;
  }

  private onMessage(conn: Conn, bytes: Uint8Array): void {
    let frame: ClientFrame;
    try {
      frame = decodeFrame(bytes, { from: 'client' }) as ClientFrame;
    } catch {
      this.send(conn, { t: 'error', code: 'malformed', msg: 'bad frame' });
      return;
    }
    this.received.push(frame);
    if (frame.t === 'auth') {
      const ok = !this.rejectAuth && ed25519.verify(frame.sig, authPayload(conn.nonce), frame.ik);
      if (!ok) {
        this.send(conn, { t: 'error', code: 'auth_failed', msg: 'bad signature' });
        conn.ws.close(4001, 'auth failed');
        return;
      }
      const mailbox = mailboxAddress(frame.ik);
      conn.mailbox = toHex(mailbox);
      const box = this.box(conn.mailbox);
      this.send(conn, { t: 'ready', mailbox, queued: box.size });
      for (const env of box.values()) this.send(conn, { t: 'deliver', env });
      return;
    }
    if (!conn.mailbox) {
      this.send(conn, { t: 'error', code: 'unauthenticated', msg: 'auth first' });
      return;
    }
    switch (frame.t) {
      case 'send': {
        if (this.failSendsWith) return this.send(conn, { t: 'error', code: this.failSendsWith, rid: frame.rid, msg: 'refused' });
        const to = toHex(frame.env.to);
        const box = this.box(to);
        const fresh = !box.has(toHex(frame.env.id));
        box.set(toHex(frame.env.id), frame.env);
        if (this.answerSends) this.send(conn, { t: 'sent', rid: frame.rid, id: frame.env.id });
        if (fresh) for (const c of this.conns) if (c.mailbox === to) this.send(c, { t: 'deliver', env: frame.env });
        return;
      }
      case 'ack': {
        const box = this.box(conn.mailbox);
        for (const id of frame.ids) box.delete(toHex(id));
        return;
      }
      case 'ping':
        if (this.answerPings) this.send(conn, { t: 'pong', rid: frame.rid });
        return;
      case 'prekeys.publish':
        this.bundles.set(toHex(frame.bundle.ik), frame.bundle);
        return this.send(conn, { t: 'prekeys.published', rid: frame.rid, opks: frame.bundle.opks.length, pqopks: frame.bundle.pqopks.length });
      case 'prekeys.fetch': {
        const b = this.bundles.get(toHex(frame.ik));
        if (!b) return this.send(conn, { t: 'error', code: 'not_found', rid: frame.rid, msg: 'no bundle' });
        const opk = b.opks[0];
        const bundle: FetchedBundle = { ik: b.ik, spk: b.spk, pq: { ...b.pqspk, lastResort: true }, ...(opk ? { opk } : {}) };
        return this.send(conn, { t: 'prekeys.bundle', rid: frame.rid, bundle });
      }
      case 'signal': {
        const to = toHex(frame.to);
        for (const c of this.conns) if (c.mailbox === to) this.send(c, { t: 'signal', blob: frame.blob });
        return;
      }
    }
  }
}
