/**
 * The HTTP side of a relay in its own process takes hostile requests: the request targets
 * that ended the process before issue 21 (each by GET and HEAD), then a bounded run of
 * fuzzed request lines, targets, methods, headers and bodies. Every request is answered
 * (400 for a bad target) or closed; the process never exits, logs no handler failure, and
 * still serves health, WebSocket auth, deposit and delivery afterwards. The long run
 * (≥20,000 requests) is in `npm run bench relay`.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_KILLING_TARGETS, fuzzedRequest, inParallel, prng, rawRequest } from './helpers/http-fuzz.ts';
import { newIdentity, randomEnvelope } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape } from './helpers/wait-for.ts';

const FUZZED_REQUESTS = 1500;

let relay: RelayProcess;
let http: string;
const dataDir = tempDataDir();
beforeAll(async () => {
  relay = await spawnRelay(dataDir, { PETREL_LOG_LEVEL: 'info', PETREL_HTTP_HEADERS_TIMEOUT_MS: '1000', PETREL_HTTP_REQUEST_TIMEOUT_MS: '2000' });
  http = `http://127.0.0.1:${relay.port}`;
});
afterAll(async () => {
  if (relay.child.exitCode === null) {
    relay.child.kill('SIGTERM');
    await relay.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('relay process under hostile HTTP requests', () => {
  it('answers 400 to each request target that used to end the process, by GET and HEAD', async () => {
    for (const target of PROCESS_KILLING_TARGETS) {
      for (const method of ['GET', 'HEAD']) {
        const r = await rawRequest(relay.port, Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`), 3000);
        expect({ target, method, ...r }).toEqual({ target, method, outcome: 'answered', status: 400 });
      }
    }
    // The same targets on the upgrade path are refused too.
    const up = await rawRequest(
      relay.port,
      Buffer.from('GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
      3000,
    );
    expect(up).toEqual({ outcome: 'answered', status: 400 });
    expect(relay.child.exitCode).toBeNull();
    expect((await fetch(`${http}/health`)).status).toBe(200);
  });

  it(`answers or closes ${FUZZED_REQUESTS} fuzzed requests without exiting, then still serves`, { timeout: 60_000 }, async () => {
    const next = prng(20261203);
    const requests = Array.from({ length: FUZZED_REQUESTS }, () => fuzzedRequest(next));
    const outcomes = await inParallel(requests.length, 16, (i) => rawRequest(relay.port, requests[i]!, 4000));
    const counts = { answered: 0, closed: 0, timeout: 0, refused: 0 };
    for (const o of outcomes) counts[o.outcome]++;
    // The relay never stopped listening, and each request got an answer or a close.
    expect(counts.refused).toBe(0);
    expect(counts.timeout).toBe(0);
    expect(counts.answered).toBeGreaterThan(FUZZED_REQUESTS / 3);
    expect(outcomes.some((o) => o.status === 400)).toBe(true);
    expect(relay.child.exitCode).toBeNull();

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

    expect(await scrape(http, /^petrel_http_request_duration_seconds_count\{route="bad_request"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(await scrape(http, /^petrel_handler_failures_total\{[^}]*\} (\d+)$/m)).toBe(0);
    expect(relay.output().split('\n').filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
  });
});
