/**
 * A relay in its own process takes 3,200 random, mutated and valid frames over 80
 * connections, half of them authenticated first. Each connection must either answer a final ping or be closed by the relay
 * (a relay that does neither fails the run); the relay must not log an error or die; and
 * once the sockets are gone its in-memory maps and connection gauge must be back where
 * they started, after each half of the run.
 */
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '../../src/core/wire/index.ts';
import { STATE_MAPS, type StateMap } from '../../src/relay/metrics.ts';
import { frame as anyFrame } from '../wire/arbitraries.ts';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';
import { waitFor } from './helpers/wait-for.ts';

const FRAMES_PER_CONNECTION = 40;
const CONNECTIONS_PER_HALF = 40;
/** How long a connection may take to answer its ping or be closed. */
const ANSWER_TIMEOUT_MS = 3000;

let relay: RelayProcess;
let http: string;
const dataDir = tempDataDir();
beforeAll(async () => {
  relay = await spawnRelay(dataDir, { PETREL_LOG_LEVEL: 'info' });
  http = `http://127.0.0.1:${relay.port}`;
});
afterAll(async () => {
  if (relay.child.exitCode === null) {
    relay.child.kill('SIGTERM');
    await relay.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

/** Byte-level mutations of a valid frame. */
function mutate(bytes: Uint8Array, seed: number): Uint8Array {
  const out = Array.from(bytes);
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) >>> 0);
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

interface RelayState {
  readonly connections: number;
  readonly maps: Readonly<Record<StateMap, number>>;
}

async function relayState(): Promise<RelayState> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const value = (re: RegExp) => {
    const m = text.match(re);
    if (!m) throw new Error(`metric missing: ${re}`);
    return Number(m[1]);
  };
  const maps = Object.fromEntries(STATE_MAPS.map((map) => [map, value(new RegExp(`^petrel_relay_state_entries\\{map="${map}"\\} (\\d+)$`, 'm'))]));
  return { connections: value(/^petrel_connections (\d+)$/m), maps: maps as Record<StateMap, number> };
}

/** Waits until the relay has noticed every closed socket, then reads its state. */
const settledState = () => waitFor(relayState, (s) => s.connections === 0 && s.maps.sessions === 0, 'every fuzz connection released', 5000);

type Outcome = 'answered' | 'closed';

/**
 * Sends the frames and a ping, after authenticating when `authenticate` (so the session's
 * binding and delivery pump exist and must be released too); resolves how the relay dealt
 * with them, or rejects if it did neither.
 */
async function fuzzOneConnection(frames: readonly Uint8Array[], rid: number, authenticate: boolean): Promise<Outcome> {
  const c = await TestClient.connect(relay.url);
  try {
    if (authenticate) await c.auth(newIdentity());
    for (const bytes of frames) c.sendRaw(bytes);
    if (c.ws.readyState === c.ws.OPEN) c.send({ t: 'ping', rid });
    return await c.until<Outcome>(
      () => (c.frames.some((f) => f.t === 'pong' && f.rid === rid) ? 'answered' : c.closeCode !== undefined ? 'closed' : undefined),
      `pong ${rid} or a close from the relay`,
      ANSWER_TIMEOUT_MS,
    );
  } finally {
    c.terminate();
  }
}

describe('relay process under a fuzz run of random and mutated frames (bounded)', () => {
  it('answers or closes every connection, never errors, and returns to its baseline state after each half', { timeout: 30_000 }, async () => {
    const samples = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(anyFrame, fc.nat()).map(([f, seed]) => mutate(encodeFrame(f as Frame), seed)),
        anyFrame.map((f) => encodeFrame(f as Frame)),
      ),
      { numRuns: 2 * CONNECTIONS_PER_HALF * FRAMES_PER_CONNECTION, seed: 20261123 },
    );
    const baseline = await settledState();
    expect(baseline.maps).toMatchObject({ sessions: 0, mailbox_bindings: 0, delivery_pumps: 0, ip_slots: 0, device_watches: 0 });

    const outcomes: Outcome[] = [];
    const afterHalf: RelayState[] = [];
    for (let half = 0; half < 2; half++) {
      for (let k = 0; k < CONNECTIONS_PER_HALF; k++) {
        const start = (half * CONNECTIONS_PER_HALF + k) * FRAMES_PER_CONNECTION;
        // A relay that neither answers nor closes makes this reject, failing the test.
        outcomes.push(await fuzzOneConnection(samples.slice(start, start + FRAMES_PER_CONNECTION), 1_000_000 + start, k % 2 === 1));
      }
      afterHalf.push(await settledState());
    }
    expect(outcomes).toHaveLength(2 * CONNECTIONS_PER_HALF);
    // Both paths were exercised: some connections survived their garbage, some were closed.
    expect(outcomes).toContain('answered');
    expect(outcomes).toContain('closed');

    // Back to baseline once the sockets are gone: no session, binding, pump or IP slot is left
    // behind; rate-limit buckets are per client IP (one here) and kind (deposit, deposit_bytes,
    // signal, fetch), not per connection, frame or fetched identity (random ones are unknown).
    for (const state of afterHalf) {
      expect(state.maps).toMatchObject({ sessions: 0, mailbox_bindings: 0, delivery_pumps: 0, ip_slots: 0, device_watches: 0 });
      expect(state.maps.rate_limit_buckets).toBeLessThanOrEqual(4);
    }
    expect(afterHalf[1]).toEqual(afterHalf[0]);

    // Still serving: health, auth, deposit and delivery.
    expect((await fetch(`${http}/health`)).status).toBe(200);
    const bob = newIdentity();
    const b = await TestClient.authenticated(relay.url, bob);
    const s = await TestClient.connect(relay.url);
    const env = randomEnvelope(bob.mailbox);
    s.send({ t: 'send', rid: 1, env });
    expect(await s.reply(1)).toMatchObject({ t: 'sent' });
    expect((await b.next('deliver')).env).toEqual(env);
    b.close();
    s.close();

    const metrics = await (await fetch(`${http}/metrics`)).text();
    expect(metrics).toMatch(/petrel_rejected_frames_total\{reason="malformed"\} [1-9]/);
    // No handler threw (they log at error level, 50) and the process is alive.
    expect(relay.output().split('\n').filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
    expect(relay.child.exitCode).toBeNull();
  });
});
