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
 *   cluster     the same load on 1, 2 and 3 relay nodes sharing PostgreSQL and Redis
 *               (PETREL_STORE=postgres), the clients spread over the nodes, half the
 *               pairs on one node and half across two: throughput, send→deliver at the
 *               SQLite node's half load (same-node vs cross-node), CPU per delivered
 *               message from /proc, and PostgreSQL commits per 1,000 deposits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import WebSocket from 'ws';
import { authPayload, decodeFrame, encodeFrame, mailboxAddress, type RelayFrame } from '../src/core/wire/index.ts';
import { freshDatabase, freshRedisPrefix } from '../tests/relay/helpers/services.ts';
import { cpuOf } from './relay/proc-cpu.ts';
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

async function startPetrel(sizes: Sizes, extraEnv: Record<string, string> = {}): Promise<Server & { dataDir: string }> {
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
      ...extraEnv,
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
  /** Index of the node this client is connected to (cluster runs). */
  node = 0;
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

/**
 * Connects `n` clients; client i talks to client i^1. Over several nodes, even pairs sit
 * on one node and odd pairs are split across two, so one run measures both kinds.
 */
async function connectAll(urls: string | readonly string[], n: number): Promise<Client[]> {
  const nodes = typeof urls === 'string' ? [urls] : urls;
  const clients = Array.from({ length: n }, (_, i) => {
    const c = new Client();
    const pair = i >> 1;
    c.node = (pair + (pair % 2 === 1 && i % 2 === 1 ? 1 : 0)) % nodes.length;
    return c;
  });
  // Connect in batches so the accept queue is not flooded.
  for (let i = 0; i < n; i += 100) await Promise.all(clients.slice(i, i + 100).map((c) => c.connect(nodes[c.node]!)));
  return clients;
}

const idKey = (id: Uint8Array) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');

interface Run {
  readonly perSec: number;
  readonly latenciesMs: number[];
  /** The same latencies split by whether sender and recipient were on one node. */
  readonly sameNodeMs: number[];
  readonly crossNodeMs: number[];
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
  const same: number[] = [];
  const cross: number[] = [];
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
        const ms = performance.now() - m.at;
        latencies.push(ms);
        (clients[m.from]!.node === clients[m.from ^ 1]!.node ? same : cross).push(ms);
        if (++delivered === messages) resolve({ perSec: messages / ((performance.now() - t0) / 1000), latenciesMs: latencies, sameNodeMs: same, crossNodeMs: cross });
        else sendNext(m.from);
      };
    });
    for (let w = 0; w < window; w++) for (let i = 0; i < clients.length; i++) sendNext(i);
  });
}

/** Open loop at `rate` msg/s for `seconds`: send→deliver latencies (all, same-node, cross-node). */
async function openLoopSplit(clients: Client[], rate: number, seconds: number): Promise<{ all: number[]; same: number[]; cross: number[] }> {
  const sentAt = new Map<string, { at: number; same: boolean }>();
  const latencies: number[] = [];
  const same: number[] = [];
  const cross: number[] = [];
  const total = Math.max(1, Math.round(rate * seconds));
  let delivered = 0;
  let rid = 0;
  return new Promise((resolve) => {
    clients.forEach((c) => {
      c.onSent = () => {};
      c.onDeliver = (id) => {
        const t = sentAt.get(idKey(id));
        if (t === undefined) return;
        const ms = performance.now() - t.at;
        latencies.push(ms);
        (t.same ? same : cross).push(ms);
        if (++delivered === total) resolve({ all: latencies, same, cross });
      };
    });
    const t0 = performance.now();
    let issued = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (issued < due) {
        const i = issued % clients.length;
        const id = new Uint8Array(randomBytes(16));
        sentAt.set(idKey(id), { at: performance.now(), same: clients[i]!.node === clients[i ^ 1]!.node });
        clients[i]!.send(clients[i ^ 1]!.mailbox, rid++, id);
        issued++;
      }
      if (issued < total) setTimeout(tick, 1);
    };
    tick();
  });
}

async function openLoop(clients: Client[], rate: number, seconds: number): Promise<number[]> {
  return (await openLoopSplit(clients, rate, seconds)).all;
}

/** Closed-loop rounds after a warm-up; `cpu` (seconds, from /proc) is sampled around the measured rounds. */
async function measure(
  server: Server | { urls: readonly string[] },
  sizes: Sizes,
  cpu: () => number = () => 0,
): Promise<{ runs: Run[]; clients: Client[]; cpuMsPerMessage: number[] }> {
  const clients = await connectAll('urls' in server ? server.urls : server.url, sizes.clients);
  await closedLoop(clients, Math.min(2000, sizes.messages), sizes.window); // warm-up
  const runs: Run[] = [];
  const cpuMsPerMessage: number[] = [];
  for (let r = 0; r < sizes.rounds; r++) {
    const before = cpu();
    runs.push(await closedLoop(clients, sizes.messages, sizes.window));
    cpuMsPerMessage.push(((cpu() - before) * 1000) / sizes.messages);
  }
  return { runs, clients, cpuMsPerMessage };
}

/** What one cluster size measured. */
interface ClusterResult {
  readonly nodes: number;
  readonly rates: number[];
  readonly p99Saturated: number[];
  readonly halfSameP99: number[];
  readonly halfCrossP99: number[];
  readonly cpuNodesMs: number[];
  readonly cpuAllMs: number[];
  /** Write transactions (group commits of deposits and acks) per 1,000 deposits, over the measured rounds. */
  readonly commitsPer1000: number;
  /** Every committed PostgreSQL transaction of the database (reads too), per 1,000 deposits, over the nodes' whole life. */
  readonly xactsPer1000: number;
}

async function scrape(url: string): Promise<{ commits: number; stored: number }> {
  const text = await (await fetch(url.replace(/^ws/, 'http').replace(/\/ws$/, '/metrics'))).text();
  const num = (re: RegExp) => Number(text.match(re)?.[1] ?? 0);
  return { commits: num(/^petrel_deposit_batch_size_count (\d+)/m), stored: num(/^petrel_deposits_total\{result="stored"\} (\d+)/m) };
}

/** Waits (bounded) until no backend but the bench's own is connected to the database: each one that exited has reported its statistics. */
async function waitForOtherBackendsGone(db: { pool: { query: <R>(sql: string, args: unknown[]) => Promise<{ rows: R[] }> }; name: string }): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    if (Number(rows[0]?.n ?? 0) === 0 || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `nodes` relay processes on one fresh PostgreSQL database and Redis prefix, the clients
 * spread over them (connectAll): closed-loop throughput, then the open loop at `halfRate`
 * (the SQLite node's half load) split into same-node and cross-node deliveries.
 */
async function measureCluster(nodes: number, sizes: Sizes, halfRate: number, halfRounds: number): Promise<ClusterResult> {
  const db = await freshDatabase();
  const redis = await freshRedisPrefix();
  const env = { PETREL_STORE: 'postgres', DATABASE_URL: db.url, REDIS_URL: redis.url, PETREL_REDIS_PREFIX: redis.prefix, PETREL_PG_POOL_MAX: '10' };
  // A backend reports its transactions to pg_stat_database lazily (PostgreSQL 15: at most once
  // a second, an idle one after up to 10 s) but always when it exits. So the count is taken
  // over the servers' whole life: before they start and once their backends have gone.
  const xacts = async () => Number((await db.pool.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [db.name])).rows[0]?.n ?? 0);
  const xactsAtStart = await xacts();
  const servers = await Promise.all(Array.from({ length: nodes }, () => startPetrel(sizes, env)));
  try {
    const pids = servers.map((x) => x.child.pid!);
    const counters = async () => (await Promise.all(servers.map((x) => scrape(x.url)))).reduce((a, b) => ({ commits: a.commits + b.commits, stored: a.stored + b.stored }));
    const clients = await connectAll(servers.map((x) => x.url), sizes.clients);
    await closedLoop(clients, Math.min(2000, sizes.messages), sizes.window); // warm-up
    const before = await counters();
    const runs: Run[] = [];
    const cpuNodesMs: number[] = [];
    const cpuAllMs: number[] = [];
    for (let r = 0; r < sizes.rounds; r++) {
      const nodesBefore = cpuOf(pids);
      const allBefore = cpuOf(pids, ['postgres', 'redis-server']);
      runs.push(await closedLoop(clients, sizes.messages, sizes.window));
      cpuNodesMs.push(((cpuOf(pids) - nodesBefore) * 1000) / sizes.messages);
      cpuAllMs.push(((cpuOf(pids, ['postgres', 'redis-server']) - allBefore) * 1000) / sizes.messages);
    }
    const after = await counters();
    const stored = after.stored - before.stored;
    const halfSameP99: number[] = [];
    const halfCrossP99: number[] = [];
    for (let r = 0; r < halfRounds; r++) {
      const lat = await openLoopSplit(clients, halfRate, sizes.halfLoadSeconds);
      halfSameP99.push(percentile(lat.same, 0.99));
      if (lat.cross.length > 0) halfCrossP99.push(percentile(lat.cross, 0.99));
    }
    for (const c of clients) c.close();
    const storedOverLife = (await counters()).stored;
    await Promise.all(servers.map((x) => x.stop()));
    await waitForOtherBackendsGone(db);
    const xactsOverLife = (await xacts()) - xactsAtStart;
    return {
      nodes,
      rates: runs.map((r) => r.perSec),
      p99Saturated: runs.map((r) => percentile(r.latenciesMs, 0.99)),
      halfSameP99,
      halfCrossP99,
      cpuNodesMs,
      cpuAllMs,
      commitsPer1000: ((after.commits - before.commits) * 1000) / stored,
      xactsPer1000: (xactsOverLife * 1000) / storedOverLife,
    };
  } finally {
    await Promise.all(servers.map((x) => x.stop()));
    await redis.cleanup();
    await db.drop();
  }
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
  const { runs, clients, cpuMsPerMessage: sqliteCpu } = await measure(petrel, sizes, () => cpuOf([petrel.child.pid!]));
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
  rows.push(row('petrel relay (SQLite, durable before sent)', 'CPU per delivered message (relay process)', 'ms', sqliteCpu));
  for (const c of clients) c.close();
  await petrel.stop();

  // Cluster mode: 1, 2 and 3 nodes on PostgreSQL + Redis, the same clients and load.
  const clusters: ClusterResult[] = [];
  // The quick smoke run keeps one single-node and one multi-node cluster.
  for (const n of quick ? [1, 3] : [1, 2, 3]) clusters.push(await measureCluster(n, sizes, halfRate, Math.min(2, sizes.rounds)));
  for (const c of clusters) {
    const subject = `petrel cluster, ${c.nodes} node${c.nodes > 1 ? 's' : ''} (PostgreSQL + Redis, durable before sent)`;
    rows.push(row(subject, `throughput, ${sizes.clients} clients`, 'msg/s', c.rates));
    rows.push(row(subject, 'p99 send→deliver, saturated', 'ms', c.p99Saturated));
    rows.push(row(subject, `p99 send→deliver at ${Math.round(halfRate)} msg/s, same node`, 'ms', c.halfSameP99));
    if (c.halfCrossP99.length > 0) rows.push(row(subject, `p99 send→deliver at ${Math.round(halfRate)} msg/s, across nodes`, 'ms', c.halfCrossP99));
    rows.push(row(subject, 'CPU per delivered message (relay processes)', 'ms', c.cpuNodesMs));
    rows.push(row(subject, 'CPU per delivered message (relays + PostgreSQL + Redis)', 'ms', c.cpuAllMs));
    rows.push(row(subject, 'PostgreSQL write commits per 1,000 deposits', 'commits', [c.commitsPer1000]));
    rows.push(row(subject, 'PostgreSQL transactions (all, reads too) per 1,000 deposits', 'transactions', [c.xactsPer1000]));
  }

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
  const three = clusters[clusters.length - 1]!;
  const crossRatio = median(three.halfCrossP99) / median(three.halfSameP99);
  const cpuRatio = median(three.cpuAllMs) / median(sqliteCpu);
  const cpuNodesRatio = median(three.cpuNodesMs) / median(sqliteCpu);
  notes.push(
    `Loopback, relay and forwarder each in their own Node process, load generator in the benchmark process (${sizes.clients} WebSocket clients in pairs, window ${sizes.window} undelivered messages per client, ${BODY_BYTES}-byte bodies, every delivery acked).`,
    `Petrel relay: SQLite WAL with synchronous=FULL on ${tmpdir()} (ext4): each envelope is fsynced before its \`sent\`; deposits and acks arriving in the same event-loop turn share one commit; the machine is shared, so absolute rates vary between runs (compare the two subjects of one run).`,
    `Relay RSS before load ${Math.round(rssBefore / 1024)} MiB, after load ${Math.round(rssAfterLoad / 1024)} MiB.`,
    `Cluster: 1-3 relay processes with PETREL_STORE=postgres on the machine's PostgreSQL (synchronous_commit on: each group commit is flushed to the WAL before its \`sent\`) and Redis (pub/sub fan-out, shared rate limits), a fresh database and Redis prefix per size. The ${sizes.clients} clients are spread over the nodes; half the pairs sit on one node, the other half across two (with one node every pair is on the same node). The latency split is measured in an open loop at the SQLite node's half load (${Math.round(halfRate)} msg/s), ${Math.min(2, sizes.rounds)} round(s) of ${sizes.halfLoadSeconds} s.`,
    `CPU from /proc/<pid>/stat (utime + stime) over the measured closed-loop rounds, divided by the messages delivered: the relay processes alone, and with every postgres and redis-server process of the machine (the load generator excluded for every subject). Everything shares 2 cores, so more nodes do not add capacity here: the cluster rows show the cost of sharing state, not a scale-out gain.`,
    `Commits per 1,000 deposits counts the relay's group commits (each stores deposits and acks arriving together) from every node's petrel_deposit_batch_size_count; the transactions row is pg_stat_database.xact_commit of the bench database (mailbox reads and authentication included) over the nodes' whole life (warm-up and half-load rounds too), read once their backends have exited, since PostgreSQL 15 reports an idle backend's count up to 10 s late.`,
  );
  return {
    name: 'relay',
    title: relayBenchmark.title,
    rows,
    goals: [
      { description: 'throughput ≥ ½ of the bare forwarder, every envelope durable before its ack', met: ratio >= 0.5, measured: `${ratio.toFixed(2)}× the bare forwarder` },
      { description: 'p99 send→deliver < 50 ms at half load', met: p99Half < 50, measured: `${p99Half.toFixed(1)} ms` },
      { description: '< 64 KiB per idle connection', met: median(perConn) < 64, measured: `${median(perConn).toFixed(1)} KiB` },
      {
        description: 'cluster (3 nodes): cross-node p99 send→deliver ≤ 2× same-node',
        met: crossRatio <= 2,
        measured: `${crossRatio.toFixed(2)}× (${median(three.halfCrossP99).toFixed(1)} ms vs ${median(three.halfSameP99).toFixed(1)} ms)`,
      },
      {
        description: 'cluster (3 nodes): CPU per delivered message ≤ 2× the SQLite node (relays + PostgreSQL + Redis)',
        met: cpuRatio <= 2,
        measured: `${cpuRatio.toFixed(2)}× (${median(three.cpuAllMs).toFixed(3)} vs ${median(sqliteCpu).toFixed(3)} ms; relays alone ${cpuNodesRatio.toFixed(2)}×)`,
      },
      {
        description: 'cluster: group commit shows (< 500 PostgreSQL commits per 1,000 deposits)',
        met: clusters.every((c) => c.commitsPer1000 < 500),
        measured: clusters.map((c) => `${c.nodes} node(s): ${Math.round(c.commitsPer1000)}`).join(', '),
      },
    ],
    notes,
  };
}

const relayBenchmark: Benchmark = { name: 'relay', title: 'Relay: durable deposit-and-deliver vs a bare ws forwarder, and as a cluster on PostgreSQL + Redis', run };
export default relayBenchmark;
