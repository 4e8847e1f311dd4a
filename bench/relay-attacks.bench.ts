/**
 * Relay under attack (issue 21), on loopback with the relay in its own process and its
 * DEFAULT limits (only the HTTP timeouts are shortened so every fuzzed request ends fast):
 *
 *   fuzz       ≥20,000 fuzzed HTTP requests (request lines, targets, methods, headers,
 *              bodies, raw bytes) and ≥20,000 random/mutated/valid WebSocket frames over
 *              500 connections: process exits (goal 0), requests neither answered nor
 *              closed, connections neither answering a final ping nor closed.
 *   flood      one IP deposits 150 KiB junk envelopes to Bob's mailbox at 1.5× its byte
 *              budget while Bob (online, reading, acking) gets real messages from another
 *              address: their send→deliver latency, against the same with no flood; then
 *              Bob offline during the flood, coming back to the junk backlog: time to the
 *              real message behind it and forced disconnects.
 *   slowloris  1,000 slowly sent HTTP requests from one address: WebSocket connect+auth
 *              from other addresses during it (successes and time), against no attack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import WebSocket from 'ws';
import { authPayload, decodeFrame, encodeFrame, mailboxAddress, type Frame, type RelayFrame } from '../src/core/wire/index.ts';
import { fuzzedRequest, inParallel, prng, rawRequest } from '../tests/relay/helpers/http-fuzz.ts';
import { frame as anyFrame } from '../tests/wire/arbitraries.ts';
import { median, percentile, row } from './stats.ts';
import type { BenchResult, Benchmark, BenchRow } from './types.ts';

const ROOT = join(import.meta.dirname, '..');

interface Sizes {
  httpRequests: number;
  wsConnections: number;
  framesPerConnection: number;
  floodSamples: number;
  offlineFloodMs: number;
  slowConnections: number;
  legitConnects: number;
}
const FULL: Sizes = { httpRequests: 20_000, wsConnections: 500, framesPerConnection: 40, floodSamples: 20, offlineFloodMs: 10_000, slowConnections: 1000, legitConnects: 20 };
const QUICK: Sizes = { httpRequests: 300, wsConnections: 10, framesPerConnection: 20, floodSamples: 3, offlineFloodMs: 1500, slowConnections: 100, legitConnects: 3 };

interface RelayProc {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  exits(): number;
  stop(): Promise<void>;
}

async function startRelay(env: Record<string, string> = {}): Promise<RelayProc> {
  const dataDir = mkdtempSync(join(tmpdir(), 'petrel-bench-attacks-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/relay/main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', PETREL_DATA_DIR: dataDir, PETREL_APP_DIR: join(dataDir, 'no-app'), PETREL_LOG_LEVEL: 'info', ...env },
  });
  let exits = 0;
  child.once('exit', () => exits++);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(/"port":(\d+)[^\n]*"msg":"relay listening"/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error(`relay exited: ${out}`)));
  });
  // Keep draining stdout so the relay never blocks on a full pipe.
  child.stdout!.on('data', () => {});
  return {
    child,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    exits: () => exits,
    stop: () =>
      new Promise((resolve) => {
        const done = () => {
          rmSync(dataDir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/** A WebSocket client that may authenticate, acks deliveries, and reports frames. */
class Peer {
  readonly ik: Uint8Array;
  readonly mailbox: Uint8Array;
  constructor(readonly seed: Uint8Array = new Uint8Array(randomBytes(32))) {
    this.ik = ed25519.getPublicKey(seed);
    this.mailbox = mailboxAddress(this.ik);
  }
  ws!: WebSocket;
  closed = false;
  onFrame: (f: RelayFrame) => void = () => {};

  /** Opens the socket from `localAddress`; resolves at `ready` (auth) or at `challenge`. */
  open(url: string, localAddress: string, auth: boolean, autoAck = true): Promise<void> {
    this.ws = new WebSocket(url, { perMessageDeflate: false, localAddress });
    this.ws.on('close', () => (this.closed = true));
    return new Promise<void>((resolve, reject) => {
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.on('message', (data: Buffer) => {
        const f = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), { from: 'relay' }) as RelayFrame;
        if (f.t === 'challenge') {
          if (auth) this.ws.send(encodeFrame({ t: 'auth', ik: this.ik, sig: ed25519.sign(authPayload(f.nonce), this.seed) }));
          else resolve();
        } else if (f.t === 'ready') resolve();
        else if (f.t === 'deliver' && autoAck) this.ws.send(encodeFrame({ t: 'ack', ids: [f.env.id] }));
        this.onFrame(f);
      });
    });
  }

  send(frame: Frame): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeFrame(frame));
  }

  close(): void {
    this.ws.terminate();
  }
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Byte-level mutations of a valid frame (as in tests/relay/fuzz.test.ts). */
function mutate(bytes: Uint8Array, next: () => number): Uint8Array {
  const out = Array.from(bytes);
  for (let k = 0; k < 1 + (next() % 4); k++) {
    const at = next() % Math.max(1, out.length);
    switch (next() % 4) {
      case 0:
        out[at] = next() & 0xff;
        break;
      case 1:
        out.splice(at, 1 + (next() % 8));
        break;
      case 2:
        out.splice(at, 0, next() & 0xff, next() & 0xff);
        break;
      default:
        out.length = at;
    }
  }
  return new Uint8Array(out);
}

async function fuzz(sizes: Sizes) {
  const relay = await startRelay({ PETREL_HTTP_HEADERS_TIMEOUT_MS: '1000', PETREL_HTTP_REQUEST_TIMEOUT_MS: '2000' });
  const next = prng(21_2026);
  const t0 = performance.now();
  const http = await inParallel(sizes.httpRequests, 32, () => rawRequest(relay.port, fuzzedRequest(next), 5000));
  process.stderr.write(`relay-attacks: http fuzz done\n`);
  const httpSeconds = (performance.now() - t0) / 1000;
  const unanswered = http.filter((o) => o.outcome === 'timeout' || o.outcome === 'refused').length;
  const status400 = http.filter((o) => o.status === 400).length;

  const frames = fc.sample(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      anyFrame.map((f) => mutate(encodeFrame(f as Frame), next)),
      anyFrame.map((f) => encodeFrame(f as Frame)),
    ),
    { numRuns: sizes.wsConnections * sizes.framesPerConnection, seed: 21_2026 },
  );
  let silent = 0;
  let answered = 0;
  let closed = 0;
  const t1 = performance.now();
  await inParallel(sizes.wsConnections, 8, async (i) => {
    const p = new Peer();
    const outcome = await new Promise<'answered' | 'closed' | 'silent'>((resolve) => {
      const timer = setTimeout(() => resolve('silent'), 5000);
      p.onFrame = (f) => {
        if (f.t === 'pong' && f.rid === 4_000_000_000) {
          clearTimeout(timer);
          resolve('answered');
        }
      };
      p.open(relay.url, '127.0.0.1', i % 2 === 1, false)
        .then(() => {
          p.ws.once('close', () => {
            clearTimeout(timer);
            resolve('closed');
          });
          for (const bytes of frames.slice(i * sizes.framesPerConnection, (i + 1) * sizes.framesPerConnection)) if (p.ws.readyState === WebSocket.OPEN) p.ws.send(bytes);
          p.send({ t: 'ping', rid: 4_000_000_000 });
        })
        .catch(() => {
          clearTimeout(timer);
          resolve('closed');
        });
    });
    p.close();
    if (outcome === 'answered') answered++;
    else if (outcome === 'closed') closed++;
    else silent++;
  });
  const wsSeconds = (performance.now() - t1) / 1000;
  const healthy = (await fetch(`http://127.0.0.1:${relay.port}/health`).then((r) => r.status).catch(() => 0)) === 200;
  const exits = relay.exits();
  await relay.stop();
  return { exits, unanswered, status400, httpSeconds, silent, answered, closed, wsSeconds, healthy, frames: frames.length, requests: http.length };
}

/** Real messages from Alice (127.0.0.3) to Bob (127.0.0.2, online, acking): send→deliver ms each. */
async function realLatencies(url: string, alice: Peer, bob: Peer, n: number, gapMs: number): Promise<number[]> {
  const arrived = new Map<string, number>();
  bob.onFrame = (f) => {
    if (f.t === 'deliver') arrived.set(hex(f.env.id), performance.now());
  };
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const id = new Uint8Array(randomBytes(16));
    const t0 = performance.now();
    alice.send({ t: 'send', rid: k, env: { to: bob.mailbox, id, body: new Uint8Array(200) } });
    const deadline = t0 + 30_000;
    while (!arrived.has(hex(id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    out.push((arrived.get(hex(id)) ?? deadline) - t0);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  void url;
  return out;
}

/** One IP (127.0.0.1) deposits 150 KiB junk to `to` at 1.5× the default 2 MiB/s byte budget until stopped. */
function startFlood(url: string, to: Uint8Array): Promise<{ stop(): Promise<{ sent: number; refused: number }> }> {
  const flooder = new Peer();
  let sent = 0;
  let refused = 0;
  // Authenticated as some identity of its own, so PETREL_AUTH_TIMEOUT_SEC does not end the flood.
  return flooder.open(url, '127.0.0.1', true).then(() => {
    flooder.onFrame = (f) => {
      if (f.t === 'sent') sent++;
      else if (f.t === 'error') refused++;
    };
    let rid = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 2; i++) flooder.send({ t: 'send', rid: rid++, env: { to, id: new Uint8Array(randomBytes(16)), body: new Uint8Array(randomBytes(150 * 1024)) } });
    }, 100);
    return {
      stop: async () => {
        clearInterval(timer);
        flooder.close();
        return { sent, refused };
      },
    };
  });
}

async function flood(sizes: Sizes) {
  const relay = await startRelay();
  const bob = new Peer();
  await bob.open(relay.url, '127.0.0.2', true);
  const alice = new Peer();
  await alice.open(relay.url, '127.0.0.3', true);
  const log = (l: string) => process.stderr.write(`relay-attacks: flood ${l}\n`);
  const calm = await realLatencies(relay.url, alice, bob, sizes.floodSamples, 50);
  log(`calm ${calm.map((x) => x.toFixed(1)).join(',')}`);
  const f = await startFlood(relay.url, bob.mailbox);
  const flooded = await realLatencies(relay.url, alice, bob, sizes.floodSamples, 1000);
  const online = await f.stop();
  log(`flooded ${flooded.map((x) => x.toFixed(1)).join(',')}`);
  bob.close();

  // Bob offline while the flood runs; then he comes back to the backlog.
  const f2 = await startFlood(relay.url, bob.mailbox);
  await new Promise((r) => setTimeout(r, sizes.offlineFloodMs));
  const offline = await f2.stop();
  log(`offline flood ${JSON.stringify(offline)}`);
  const id = new Uint8Array(randomBytes(16));
  alice.send({ t: 'send', rid: 999_999, env: { to: bob.mailbox, id, body: new Uint8Array(200) } });
  await new Promise((r) => setTimeout(r, 200));
  const back = new Peer(bob.seed);
  let backlogBytes = 0;
  let arrivedAt = 0;
  back.onFrame = (fr) => {
    if (fr.t === 'deliver') {
      backlogBytes += fr.env.body.length;
      if (hex(fr.env.id) === hex(id)) arrivedAt = performance.now();
    }
  };
  const t0 = performance.now();
  await back.open(relay.url, '127.0.0.2', true);
  while (arrivedAt === 0 && !back.closed && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 5));
  const forcedDisconnects = back.closed ? 1 : 0;
  back.close();
  alice.close();
  const exits = relay.exits();
  await relay.stop();
  return { calm, flooded, online, offline, backlogMs: arrivedAt - t0, backlogMiB: backlogBytes / 2 ** 20, forcedDisconnects, exits };
}

async function connectTimes(url: string, n: number, firstHost: number): Promise<{ ok: number; ms: number[] }> {
  const ms: number[] = [];
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const p = new Peer();
    const t0 = performance.now();
    try {
      await p.open(url, `127.0.0.${firstHost + (i % 50)}`, true);
      ok++;
      ms.push(performance.now() - t0);
    } catch {
      // counted as a failure
    }
    p.close();
  }
  return { ok, ms };
}

async function slowloris(sizes: Sizes) {
  const relay = await startRelay();
  const calm = await connectTimes(relay.url, sizes.legitConnects, 10);
  const sockets: Socket[] = [];
  const drip = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('X-Drip: 1\r\n');
  }, 1000);
  for (let i = 0; i < sizes.slowConnections; i++) {
    const s = tcpConnect({ port: relay.port, host: '127.0.0.1' });
    s.on('error', () => {});
    s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
  const attacked = await connectTimes(relay.url, sizes.legitConnects, 100);
  clearInterval(drip);
  for (const s of sockets) s.destroy();
  const exits = relay.exits();
  await relay.stop();
  return { calm, attacked, exits };
}

async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const sizes = quick ? QUICK : FULL;
  const rows: BenchRow[] = [];
  const say = (line: string) => process.stderr.write(`relay-attacks: ${line}\n`);
  say('fuzz');
  const fz = await fuzz(sizes);
  say(`fuzz done: ${JSON.stringify(fz)}`);
  const fl = await flood(sizes);
  say(`flood done: backlog ${fl.backlogMs.toFixed(0)} ms`);
  const sl = await slowloris(sizes);
  say('slowloris done');

  rows.push(row('relay process', `fuzzed HTTP requests (${fz.requests.toLocaleString('en-US')})`, 'req/s', [fz.requests / fz.httpSeconds]));
  rows.push(row('relay process', `fuzzed WebSocket frames (${fz.frames.toLocaleString('en-US')}, ${sizes.wsConnections} connections)`, 'frames/s', [fz.frames / fz.wsSeconds]));
  rows.push(row('no flood', 'real message send→deliver, owner online', 'ms', fl.calm));
  rows.push(row('one IP flooding 150 KiB junk at 1.5× its byte budget', 'real message send→deliver, owner online', 'ms', fl.flooded));
  rows.push(row('owner back after a flood while offline', `real message behind ${fl.backlogMiB.toFixed(0)} MiB of junk: connect→deliver`, 'ms', [fl.backlogMs]));
  rows.push(row('no attack', 'WebSocket connect + auth', 'ms', sl.calm.ms));
  rows.push(row(`slowloris, ${sizes.slowConnections.toLocaleString('en-US')} slow requests from one address`, 'WebSocket connect + auth from other addresses', 'ms', sl.attacked.ms.length ? sl.attacked.ms : [NaN]));

  const exits = fz.exits + fl.exits + sl.exits;
  const maxFlooded = Math.max(...fl.flooded);
  return {
    name: 'relay-attacks',
    title: 'Relay under attack: fuzzing, junk flood, slowloris',
    rows,
    goals: [
      {
        description: `0 process exits over ≥20,000 fuzzed HTTP requests and ≥20,000 fuzzed WebSocket frames (every request answered or closed, every connection answering or closed)`,
        met: exits === 0 && fz.healthy && fz.unanswered === 0 && fz.silent === 0 && fz.requests >= 20_000 && fz.frames >= 20_000,
        measured: `${exits} exits; ${fz.requests.toLocaleString('en-US')} requests (${fz.status400.toLocaleString('en-US')} answered 400, ${fz.unanswered} unanswered); ${fz.frames.toLocaleString('en-US')} frames on ${sizes.wsConnections} connections (${fz.answered} answered their final ping, ${fz.closed} closed by the relay, ${fz.silent} neither)`,
      },
      {
        description: 'while one IP floods junk at its budget, a real message to the flooded mailbox arrives in < 2 s',
        met: maxFlooded < 2000,
        measured: `max ${maxFlooded.toFixed(0)} ms, median ${median(fl.flooded).toFixed(1)} ms (no flood: median ${median(fl.calm).toFixed(1)} ms); flood: ${fl.online.sent} junk stored, ${fl.online.refused} refused`,
      },
      {
        description: 'under a 1,000-connection slowloris from one address, new WebSocket connections still succeed',
        met: sl.attacked.ok === sizes.legitConnects && sizes.slowConnections >= 1000,
        measured: `${sl.attacked.ok} of ${sizes.legitConnects} connected and authenticated, p99 ${percentile(sl.attacked.ms, 0.99).toFixed(1)} ms (no attack: p99 ${percentile(sl.calm.ms, 0.99).toFixed(1)} ms)`,
      },
    ],
    notes: [
      'Loopback; each phase on a fresh relay process with its default limits (HTTP header/request timeouts shortened to 1 s / 2 s in the fuzz phase so incomplete requests end quickly). Attackers use 127.0.0.1, legitimate clients other 127.0.0.x addresses (separate per-IP budgets, as separate hosts would have).',
      `Offline backlog: Bob was away while the flood ran ${(sizes.offlineFloodMs / 1000).toFixed(0)} s (${fl.offline.sent} junk envelopes stored, ${fl.offline.refused} refused by the budgets); on reconnecting he read ${fl.backlogMiB.toFixed(1)} MiB before the real message, with ${fl.forcedDisconnects} forced disconnects. The junk ahead of a real message is bounded by the flooder's byte budget × the time away, not removed: see PROTOCOL.md §sealed-sender budgets.`,
      'Before this work (issue 21, real app in Chromium): 82 s and 210 forced disconnects to reach one real message behind 640 junk envelopes of 192 KiB; 131 s and 419 disconnects at 20 junk envelopes a second from one IP.',
    ],
  };
}

const relayAttacksBenchmark: Benchmark = { name: 'relay-attacks', title: 'Relay under attack: fuzzing, junk flood, slowloris', run };
export default relayAttacksBenchmark;
