/**
 * Relay benchmark (issue 5), on loopback with the relay in its own process:
 *
 *   throughput  N clients (pairs) send 1 KiB envelopes to each other with a window of
 *               W undelivered messages per client; each delivery is acked. Messages per
 *               second until every envelope was delivered, and its send→deliver latency.
 *               Petrel relay (SQLite, synchronous=FULL, durable before `sent`) against a
 *               bare ws forwarder with the same frames and no persistence (the ceiling).
 *   half load   open loop at half the relay's measured throughput: send→deliver p50/p99.
 *   memory      relay RSS growth per idle authenticated connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import WebSocket from 'ws';
import { authPayload, decodeFrame, encodeFrame, mailboxAddress, type RelayFrame } from '../src/core/wire/index.ts';
import { percentile, row, median } from './stats.ts';
import type { BenchResult, Benchmark, BenchRow } from './types.ts';

const ROOT = join(import.meta.dirname, '..');
const BODY_BYTES = 1024;

interface Sizes {
  clients: number;
  messages: number;
  window: number;
  rounds: number;
  halfLoadSeconds: number;
}
const FULL: Sizes = { clients: 1000, messages: 40_000, window: 4, rounds: 3, halfLoadSeconds: 5 };
const QUICK: Sizes = { clients: 20, messages: 400, window: 2, rounds: 1, halfLoadSeconds: 1 };

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.once('exit', () => reject(new Error(`${what} exited: ${out}`)));
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

async function startPetrel(sizes: Sizes): Promise<Server & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'petrel-bench-relay-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/relay/main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      PETREL_DATA_DIR: dataDir,
      PETREL_APP_DIR: join(dataDir, 'no-app'),
      PETREL_LOG_LEVEL: 'info',
      PETREL_DB_SYNCHRONOUS: 'FULL',
      PETREL_MAX_CONNECTIONS: String(sizes.clients * 2 + 100),
      PETREL_MAX_CONNECTIONS_PER_IP: String(sizes.clients * 2 + 100),
      PETREL_IP_DEPOSITS_PER_SEC: '1000000',
      PETREL_IP_DEPOSIT_BURST: '1000000',
      PETREL_CONN_FRAMES_PER_SEC: '100000',
      PETREL_CONN_FRAME_BURST: '100000',
    },
  });
  const m = await waitForLine(child, /"port":(\d+)[^\n]*"msg":"relay listening"/, 'relay');
  const stop = stopper(child);
  return {
    child,
    dataDir,
    url: `ws://127.0.0.1:${m[1]}/ws`,
    stop: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startBare(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/relay/bare-forwarder.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const m = await waitForLine(child, /\{"port":(\d+)\}/, 'bare forwarder');
  return { child, url: `ws://127.0.0.1:${m[1]}/ws`, stop: stopper(child) };
}

function rssKiB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) : NaN;
}

/** One authenticated load-generating client. */
class Client {
  readonly seed = new Uint8Array(randomBytes(32));
  readonly ik = ed25519.getPublicKey(this.seed);
  readonly mailbox = mailboxAddress(this.ik);
  ws!: WebSocket;
  onDeliver: (id: Uint8Array) => void = () => {};
  onSent: (rid: number) => void = () => {};

  async connect(url: string): Promise<void> {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.on('message', (data: Buffer) => {
        const f = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { from: 'relay' }) as RelayFrame;
        switch (f.t) {
          case 'challenge':
            this.ws.send(encodeFrame({ t: 'auth', ik: this.ik, sig: ed25519.sign(authPayload(f.nonce), this.seed) }));
            break;
          case 'ready':
            resolve();
            break;
          case 'deliver':
            this.ws.send(encodeFrame({ t: 'ack', ids: [f.env.id] }));
            this.onDeliver(f.env.id);
            break;
          case 'sent':
            this.onSent(f.rid);
            break;
          case 'error':
            reject(new Error(`relay error ${f.code}: ${f.msg}`));
            break;
        }
      });
    });
  }

  send(to: Uint8Array, rid: number, id: Uint8Array): void {
    this.ws.send(encodeFrame({ t: 'send', rid, env: { to, id, body: new Uint8Array(BODY_BYTES) } }));
  }

  close(): void {
    this.ws.terminate();
  }
}

async function connectAll(url: string, n: number): Promise<Client[]> {
  const clients = Array.from({ length: n }, () => new Client());
  // Connect in batches so the accept queue is not flooded.
  for (let i = 0; i < n; i += 100) await Promise.all(clients.slice(i, i + 100).map((c) => c.connect(url)));
  return clients;
}

const idKey = (id: Uint8Array) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');

interface Run {
  readonly perSec: number;
  readonly latenciesMs: number[];
}

/**
 * Closed loop: each client keeps `window` messages in flight until `messages` were
 * delivered. A message leaves its sender's window when it is *delivered* (not when the
 * server answers `sent`), so both subjects run under the same flow control: a forwarder
 * that answers `sent` at once cannot flood its recipients' sockets and measure its own
 * queueing instead of its throughput.
 */
async function closedLoop(clients: Client[], messages: number, window: number): Promise<Run> {
  const inFlight = new Map<string, { at: number; from: number }>();
  const latencies: number[] = [];
  let issued = 0;
  let delivered = 0;
  let rid = 0;
  return new Promise<Run>((resolve) => {
    const t0 = performance.now();
    const sendNext = (i: number) => {
      if (issued >= messages) return;
      issued++;
      const id = new Uint8Array(randomBytes(16));
      inFlight.set(idKey(id), { at: performance.now(), from: i });
      clients[i]!.send(clients[i ^ 1]!.mailbox, rid++ >>> 0, id);
    };
    clients.forEach((c) => {
      c.onSent = () => {};
      c.onDeliver = (id) => {
        const k = idKey(id);
        const m = inFlight.get(k);
        if (m === undefined) return;
        inFlight.delete(k);
        latencies.push(performance.now() - m.at);
        if (++delivered === messages) resolve({ perSec: messages / ((performance.now() - t0) / 1000), latenciesMs: latencies });
        else sendNext(m.from);
      };
    });
    for (let w = 0; w < window; w++) for (let i = 0; i < clients.length; i++) sendNext(i);
  });
}

/** Open loop at `rate` msg/s for `seconds`: send→deliver latencies. */
async function openLoop(clients: Client[], rate: number, seconds: number): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const total = Math.max(1, Math.round(rate * seconds));
  let delivered = 0;
  let rid = 0;
  return new Promise<number[]>((resolve) => {
    clients.forEach((c) => {
      c.onSent = () => {};
      c.onDeliver = (id) => {
        const t = sentAt.get(idKey(id));
        if (t === undefined) return;
        latencies.push(performance.now() - t);
        if (++delivered === total) resolve(latencies);
      };
    });
    const t0 = performance.now();
    let issued = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (issued < due) {
        const i = issued % clients.length;
        const id = new Uint8Array(randomBytes(16));
        sentAt.set(idKey(id), performance.now());
        clients[i]!.send(clients[i ^ 1]!.mailbox, rid++, id);
        issued++;
      }
      if (issued < total) setTimeout(tick, 1);
    };
    tick();
  });
}

async function measure(server: Server, sizes: Sizes): Promise<{ runs: Run[]; clients: Client[] }> {
  const clients = await connectAll(server.url, sizes.clients);
  await closedLoop(clients, Math.min(2000, sizes.messages), sizes.window); // warm-up
  const runs: Run[] = [];
  for (let r = 0; r < sizes.rounds; r++) runs.push(await closedLoop(clients, sizes.messages, sizes.window));
  return { runs, clients };
}

async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const sizes = quick ? QUICK : FULL;
  const rows: BenchRow[] = [];
  const notes: string[] = [];

  // Ceiling first.
  const bare = await startBare();
  const bareResult = await measure(bare, sizes);
  for (const c of bareResult.clients) c.close();
  await bare.stop();

  // Memory per idle connection on a fresh relay.
  const petrel = await startPetrel(sizes);
  const rssBefore = rssKiB(petrel.child.pid!);
  const { runs, clients } = await measure(petrel, sizes);
  const rssAfterLoad = rssKiB(petrel.child.pid!);

  const bareRates = bareResult.runs.map((r) => r.perSec);
  const petrelRates = runs.map((r) => r.perSec);
  rows.push(row('bare ws forwarder (no persistence)', `throughput, ${sizes.clients} clients`, 'msg/s', bareRates));
  rows.push(row('petrel relay (SQLite, durable before sent)', `throughput, ${sizes.clients} clients`, 'msg/s', petrelRates));
  rows.push(row('bare ws forwarder (no persistence)', 'p50 send→deliver, saturated', 'ms', bareResult.runs.map((r) => percentile(r.latenciesMs, 0.5))));
  rows.push(row('petrel relay (SQLite, durable before sent)', 'p50 send→deliver, saturated', 'ms', runs.map((r) => percentile(r.latenciesMs, 0.5))));
  rows.push(row('bare ws forwarder (no persistence)', 'p99 send→deliver, saturated', 'ms', bareResult.runs.map((r) => percentile(r.latenciesMs, 0.99))));
  rows.push(row('petrel relay (SQLite, durable before sent)', 'p99 send→deliver, saturated', 'ms', runs.map((r) => percentile(r.latenciesMs, 0.99))));

  // Half load, open loop.
  const halfRate = median(petrelRates) / 2;
  const halfP50: number[] = [];
  const halfP99: number[] = [];
  for (let r = 0; r < sizes.rounds; r++) {
    const lat = await openLoop(clients, halfRate, sizes.halfLoadSeconds);
    halfP50.push(percentile(lat, 0.5));
    halfP99.push(percentile(lat, 0.99));
  }
  rows.push(row('petrel relay (SQLite, durable before sent)', `p50 send→deliver at half load (${Math.round(halfRate)} msg/s)`, 'ms', halfP50));
  rows.push(row('petrel relay (SQLite, durable before sent)', `p99 send→deliver at half load (${Math.round(halfRate)} msg/s)`, 'ms', halfP99));
  for (const c of clients) c.close();
  await petrel.stop();

  // Idle connections on a fresh relay: RSS growth / connection.
  const idle = await startPetrel(sizes);
  const perConn: number[] = [];
  const probe = await connectAll(idle.url, Math.min(50, sizes.clients)); // warm the code paths
  const base = rssKiB(idle.child.pid!);
  const idleClients = await connectAll(idle.url, sizes.clients);
  await new Promise((r) => setTimeout(r, 500));
  perConn.push((rssKiB(idle.child.pid!) - base) / sizes.clients);
  for (const c of [...probe, ...idleClients]) c.close();
  await idle.stop();
  rows.push(row('petrel relay', 'RSS per idle authenticated connection', 'KiB', perConn));

  const ratio = median(petrelRates) / median(bareRates);
  const p99Half = median(halfP99);
  notes.push(
    `Loopback, relay and forwarder each in their own Node process, load generator in the benchmark process (${sizes.clients} WebSocket clients in pairs, window ${sizes.window} undelivered messages per client, ${BODY_BYTES}-byte bodies, every delivery acked).`,
    `Petrel relay: SQLite WAL with synchronous=FULL on ${tmpdir()} (ext4): each envelope is fsynced before its \`sent\`; deposits and acks arriving in the same event-loop turn share one commit; the machine is shared, so absolute rates vary between runs (compare the two subjects of one run).`,
    `Relay RSS before load ${Math.round(rssBefore / 1024)} MiB, after load ${Math.round(rssAfterLoad / 1024)} MiB.`,
  );
  return {
    name: 'relay',
    title: 'Relay: durable deposit-and-deliver vs a bare ws forwarder',
    rows,
    goals: [
      { description: 'throughput ≥ ½ of the bare forwarder, every envelope durable before its ack', met: ratio >= 0.5, measured: `${ratio.toFixed(2)}× the bare forwarder` },
      { description: 'p99 send→deliver < 50 ms at half load', met: p99Half < 50, measured: `${p99Half.toFixed(1)} ms` },
      { description: '< 64 KiB per idle connection', met: median(perConn) < 64, measured: `${median(perConn).toFixed(1)} KiB` },
    ],
    notes,
  };
}

const relayBenchmark: Benchmark = { name: 'relay', title: 'Relay: durable deposit-and-deliver vs a bare ws forwarder', run };
export default relayBenchmark;
