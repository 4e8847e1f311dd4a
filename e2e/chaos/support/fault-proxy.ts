/**
 * A byte-level TCP proxy on loopback between the browsers and the relay. It carries HTTP
 * and WebSocket bytes alike and breaks them on command:
 * - `cutAll()`: every connection through it is reset (a dead NAT, a Wi-Fi roam);
 * - `delay(ms)`: from now on each chunk is held `ms` before it is forwarded, in order
 *   per direction (a slow, bufferbloated link; `delay(0)` ends it);
 * - `arm('drop')`: the next chunk that crosses is lost and its connection dies with it —
 *   TCP never loses bytes silently, so on a byte stream a loss IS a dead connection;
 * - `arm('truncate')`: the next chunk is forwarded only in part, then the connection dies
 *   (a frame cut in the middle).
 * Faults are chosen by the spec from its seeded schedule, never by wall-clock timers.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ArmedFault = 'drop' | 'truncate';

export interface FaultCounts {
  cuts: number;
  drops: number;
  truncations: number;
  delayed: number;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export class FaultProxy {
  private readonly pairs = new Set<Pair>();
  private delayMs = 0;
  private armed: ArmedFault | undefined;
  readonly counts: FaultCounts = { cuts: 0, drops: 0, truncations: 0, delayed: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {};
    const server = createServer((client) => holder.proxy!.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    holder.proxy = new FaultProxy(server, (server.address() as { port: number }).port);
    return holder.proxy;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.pairs.size;
  }

  cutAll(): number {
    const cut = [...this.pairs];
    for (const pair of cut) this.kill(pair);
    this.counts.cuts += cut.length;
    return cut.length;
  }

  delay(ms: number): void {
    this.delayMs = ms;
  }

  arm(fault: ArmedFault): void {
    this.armed = fault;
  }

  /** Ends every standing fault (delay, armed drop/truncate); open connections stay. */
  heal(): void {
    this.delayMs = 0;
    this.armed = undefined;
  }

  async close(): Promise<void> {
    for (const pair of [...this.pairs]) this.kill(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => this.kill(pair);
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    this.forward(pair, client, upstream);
    this.forward(pair, upstream, client);
  }

  private forward(pair: Pair, from: Socket, to: Socket): void {
    let releaseAt = 0;
    from.on('data', (chunk: Buffer) => {
      const fault = this.armed;
      if (fault) {
        this.armed = undefined;
        if (fault === 'truncate') {
          to.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
          this.counts.truncations++;
        } else {
          this.counts.drops++;
        }
        // Let the partial write reach the socket before it is reset.
        setImmediate(() => this.kill(pair));
        return;
      }
      if (this.delayMs <= 0 && releaseAt <= Date.now()) {
        to.write(chunk);
        return;
      }
      this.counts.delayed++;
      releaseAt = Math.max(releaseAt, Date.now() + this.delayMs);
      const wait = releaseAt - Date.now();
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, wait);
    });
  }

  private kill(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
