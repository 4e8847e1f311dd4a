/**
 * The real relay (src/relay, in this process, SQLite in a temp dir) behind a WebSocket
 * proxy on loopback that can make the link misbehave: drop the relay's `sent` answers or
 * pongs, refuse sends with an error code, spoil the auth signature, cut connections,
 * inject raw bytes, and restart the relay on its data. Every client frame that reaches the
 * proxy is recorded, decoded. Wire tests of the client transport run against this, so the
 * relay they talk to is the one that ships, not a hand-written copy of it (issue 15).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { decodeFrame, encodeFrame, type ClientFrame, type ErrorCode, type RelayFrame } from '../../src/core/wire/index.ts';
import { DATABASE_FILE } from '../../src/relay/storage/sqlite-database.ts';
import { startTestRelay, tempDataDir, type TestRelay } from '../relay/helpers/relay-harness.ts';

interface Link {
  readonly client: WebSocket;
  upstream: WebSocket;
  /** The relay said `ready` on this link (the client is authenticated). */
  ready: boolean;
}

export class FaultyRelay {
  /** Client frames in arrival order, as the proxy decoded them (before any fault). */
  readonly received: ClientFrame[] = [];

  // Faults.
  answerPings = true;
  answerSends = true;
  failSendsWith: ErrorCode | undefined;
  rejectAuth = false;

  private relay: TestRelay | undefined;
  private server: WebSocketServer | undefined;
  private readonly links = new Set<Link>();
  private readonly dataDir = tempDataDir();
  port = 0;

  async start(): Promise<this> {
    this.relay = await startTestRelay({}, this.dataDir);
    const server = new WebSocketServer({ host: '127.0.0.1', port: this.port });
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

  /** Clients connected to the proxy now. */
  get connections(): number {
    return this.links.size;
  }

  /** Stops the relay (its data kept) and starts it again on the same data; every link drops, as in a crash and restart. */
  async restart(): Promise<void> {
    await this.relay!.stop({ keepData: true });
    this.dropConnections();
    this.relay = await startTestRelay({}, this.dataDir);
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
    await this.relay?.stop();
    this.relay = undefined;
  }

  /** Cuts every client's connection (the relay stays up). */
  dropConnections(): void {
    for (const link of this.links) {
      link.client.terminate();
      link.upstream.terminate();
    }
    this.links.clear();
  }

  /** Sends raw bytes to every authenticated client, as if the relay had (hostile-input tests). */
  sendRaw(bytes: Uint8Array): void {
    for (const link of this.links) if (link.ready) link.client.send(bytes);
  }

  /** Envelopes waiting in `mailbox` at the relay, read from its database. */
  queued(mailbox: Uint8Array): number {
    const db = new Database(join(this.dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM envelopes WHERE mailbox = ?').get(mailbox) as { n: number }).n;
    } finally {
      db.close();
    }
  }

  framesOfType<T extends ClientFrame['t']>(t: T): Extract<ClientFrame, { t: T }>[] {
    return this.received.filter((f): f is Extract<ClientFrame, { t: T }> => f.t === t);
  }

  private onConnection(client: WebSocket): void {
    const upstream = new WebSocket(this.relay!.url);
    const link: Link = { client, upstream, ready: false };
    this.links.add(link);
    const waiting: Uint8Array[] = [];
    upstream.on('open', () => {
      for (const bytes of waiting.splice(0)) upstream.send(bytes);
    });
    const end = () => {
      this.links.delete(link);
      client.terminate();
      upstream.terminate();
    };
    upstream.on('close', end);
    upstream.on('error', end);
    client.on('close', end);
    client.on('error', end);
    upstream.on('message', (data: Buffer) => this.fromRelay(link, new Uint8Array(data)));
    client.on('message', (data: Buffer) => {
      const bytes = this.fromClient(link, new Uint8Array(data));
      if (!bytes) return;
      if (upstream.readyState === WebSocket.OPEN) upstream.send(bytes);
      else waiting.push(bytes);
    });
  }

  /** What goes on to the relay (undefined: nothing). */
  private fromClient(link: Link, bytes: Uint8Array): Uint8Array | undefined {
    let frame: ClientFrame;
    try {
      frame = decodeFrame(bytes, { from: 'client' }) as ClientFrame;
    } catch {
      return bytes; // the relay answers malformed input itself
    }
    this.received.push(frame);
    if (frame.t === 'auth' && this.rejectAuth) {
      const sig = frame.sig.slice();
      sig[0]! ^= 0x01;
      return encodeFrame({ ...frame, sig });
    }
    if (frame.t === 'ping' && !this.answerPings) return undefined;
    if ((frame.t === 'send' || frame.t === 'send.multi') && this.failSendsWith) {
      this.toClient(link, { t: 'error', code: this.failSendsWith, rid: frame.rid, msg: 'refused by the test' });
      return undefined;
    }
    return bytes;
  }

  private fromRelay(link: Link, bytes: Uint8Array): void {
    let frame: RelayFrame | undefined;
    try {
      frame = decodeFrame(bytes, { from: 'relay' }) as RelayFrame;
    } catch {
      frame = undefined;
    }
    if (frame?.t === 'ready') link.ready = true;
    if (frame?.t === 'sent' && !this.answerSends) return;
    link.client.send(bytes);
  }

  private toClient(link: Link, frame: RelayFrame): void {
    link.client.send(encodeFrame(frame));
  }
}
