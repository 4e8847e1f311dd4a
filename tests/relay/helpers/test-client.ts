import WebSocket from 'ws';
import { decodeFrame, encodeFrame, type ClientFrame, type Frame, type RelayFrame } from '../../../src/core/wire/index.ts';
import type { TestIdentity } from './identity.ts';

const DEFAULT_WAIT_MS = 5000;

/** A WebSocket client speaking the wire format, with waits on conditions (never fixed sleeps). */
export class TestClient {
  readonly frames: RelayFrame[] = [];
  private readonly waiters = new Set<() => void>();
  closeCode: number | undefined;
  private readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => {
      this.frames.push(decodeFrame(new Uint8Array(data), { from: 'relay' }) as RelayFrame);
      this.notify();
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.closeCode = code;
        this.notify();
        resolve(code);
      }),
    );
    ws.on('error', () => {});
  }

  static async connect(
    url: string,
    opts: { origin?: string; headers?: Record<string, string>; autoPong?: boolean; localAddress?: string } = {},
  ): Promise<TestClient> {
    const ws = new WebSocket(url, {
      origin: opts.origin,
      headers: opts.headers,
      perMessageDeflate: false,
      autoPong: opts.autoPong ?? true,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return client;
  }

  /** Connects and answers the challenge; resolves with the `ready` frame. */
  static async authenticated(url: string, id: TestIdentity): Promise<TestClient> {
    const c = await TestClient.connect(url);
    await c.auth(id);
    return c;
  }

  async auth(id: TestIdentity): Promise<Extract<RelayFrame, { t: 'ready' }>> {
    const challenge = await this.next('challenge');
    this.send({ t: 'auth', ik: id.ik, sig: id.signAuth(challenge.nonce) });
    return this.next('ready');
  }

  send(frame: ClientFrame | Frame): void {
    this.ws.send(encodeFrame(frame as Frame));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Waits until `predicate` holds over the received frames (or the socket closed). */
  async until<T>(check: () => T | undefined, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    const found = check();
    if (found !== undefined) return found;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${what}; got ${this.frames.map((f) => f.t).join(',')}`));
      }, timeoutMs);
      const waiter = () => {
        const v = check();
        if (v !== undefined) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(v);
        } else if (this.closeCode !== undefined) {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(new Error(`socket closed (${this.closeCode}) while waiting for ${what}`));
        }
      };
      this.waiters.add(waiter);
    });
  }

  /** Takes (removes) the first received frame of type `t` matching `where`, waiting for it. */
  async next<T extends RelayFrame['t']>(t: T, where: (f: Extract<RelayFrame, { t: T }>) => boolean = () => true, timeoutMs?: number): Promise<Extract<RelayFrame, { t: T }>> {
    return this.until(
      () => {
        const i = this.frames.findIndex((f) => f.t === t && where(f as Extract<RelayFrame, { t: T }>));
        if (i < 0) return undefined;
        return this.frames.splice(i, 1)[0] as Extract<RelayFrame, { t: T }>;
      },
      t,
      timeoutMs,
    );
  }

  /** The reply (any frame with this rid: the expected type or an error). */
  async reply(rid: number, timeoutMs?: number): Promise<RelayFrame> {
    return this.until(
      () => {
        const i = this.frames.findIndex((f) => 'rid' in f && f.rid === rid);
        return i < 0 ? undefined : this.frames.splice(i, 1)[0];
      },
      `reply to rid ${rid}`,
      timeoutMs,
    );
  }

  async waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    return Promise.race([this.closed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('not closed')), timeoutMs))]);
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}
