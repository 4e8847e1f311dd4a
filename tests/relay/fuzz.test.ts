import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, type Frame } from '../../src/core/wire/index.ts';
import { frame as anyFrame } from '../wire/arbitraries.ts';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay({ PETREL_LOG_LEVEL: 'info' });
});
afterAll(async () => {
  await relay.stop();
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

describe('relay under a fuzz run of random and mutated frames (bounded)', () => {
  it('never crashes, keeps serving and keeps memory bounded', { timeout: 60_000 }, async () => {
    const samples = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => ({ kind: 'random' as const, bytes: b })),
        fc.tuple(anyFrame, fc.nat()).map(([f, seed]) => ({ kind: 'mutated' as const, bytes: mutate(encodeFrame(f as Frame), seed) })),
        anyFrame.map((f) => ({ kind: 'valid' as const, bytes: encodeFrame(f as Frame) })),
      ),
      { numRuns: 4000, seed: 20261123 },
    );
    const heapBefore = process.memoryUsage().heapUsed;
    let connections = 0;
    // Fresh connections as the relay closes ones that send too much garbage.
    for (let start = 0; start < samples.length; start += 40) {
      const c = await TestClient.connect(relay.url);
      connections++;
      for (const s of samples.slice(start, start + 40)) c.sendRaw(s.bytes);
      c.send({ t: 'ping', rid: 424242 });
      // Either it answers the ping (all frames were handled) or it closed us for too many strikes.
      await c.until(() => (c.frames.some((f) => f.t === 'pong') || c.closeCode !== undefined ? true : undefined), 'pong or close').catch(() => undefined);
      c.terminate();
    }
    expect(connections).toBe(100);

    // Still serving: health, auth, deposit and delivery.
    expect((await fetch(`${relay.http}/health`)).status).toBe(200);
    const bob = newIdentity();
    const b = await TestClient.authenticated(relay.url, bob);
    const s = await TestClient.connect(relay.url);
    const env = randomEnvelope(bob.mailbox);
    s.send({ t: 'send', rid: 1, env });
    expect(await s.reply(1)).toMatchObject({ t: 'sent' });
    expect((await b.next('deliver')).env).toEqual(env);
    b.close();
    s.close();

    const metrics = await (await fetch(`${relay.http}/metrics`)).text();
    expect(metrics).toMatch(/petrel_rejected_frames_total\{reason="malformed"\} [1-9]/);
    // Bounded memory: 4,000 frames do not leave megabytes behind (generous bound; the test process shares the heap).
    const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
    expect(grownMb).toBeLessThan(64);
  });
});
