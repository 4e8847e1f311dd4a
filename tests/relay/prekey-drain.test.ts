/**
 * Issue 21 §4, against a relay in its own process: fetchers from several addresses cannot
 * drain one identity's one-time prekeys. Past the identity's one-time-key budget every
 * fetch gets the last-resort keys (no X25519 one-time key, the last-resort ML-KEM key);
 * past its fetch budget fetches are refused; the pool keeps what the budget did not spend,
 * and the drain is counted.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayFrame } from '../../src/core/wire/index.ts';
import { newIdentity, signedBundle } from './helpers/identity.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { spawnRelay, type RelayProcess } from './helpers/relay-process.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape } from './helpers/wait-for.ts';

let relay: RelayProcess;
let http: string;
const dataDir = tempDataDir();
beforeAll(async () => {
  relay = await spawnRelay(dataDir, {
    PETREL_LOG_LEVEL: 'info',
    PETREL_ONE_TIME_KEYS_PER_HOUR: '1',
    PETREL_ONE_TIME_KEY_BURST: '5',
    PETREL_TARGET_FETCHES_PER_MIN: '1',
    PETREL_TARGET_FETCH_BURST: '12',
  });
  http = `http://127.0.0.1:${relay.port}`;
});
afterAll(async () => {
  relay.child.kill('SIGTERM');
  await relay.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('prekey drain from several addresses', () => {
  it('spends at most the one-time-key budget, then serves last-resort keys, then refuses', async () => {
    const victim = newIdentity();
    const owner = await TestClient.authenticated(relay.url, victim);
    owner.send({ t: 'prekeys.publish', rid: 1, bundle: signedBundle(victim, 20, 20) });
    expect(await owner.reply(1)).toMatchObject({ t: 'prekeys.published', opks: 20, pqopks: 20 });

    const replies: RelayFrame[] = [];
    for (let i = 0; i < 14; i++) {
      // Four addresses take turns, as a drain spread over hosts would.
      const c = await TestClient.connect(relay.url, { localAddress: `127.0.0.${2 + (i % 4)}` });
      c.send({ t: 'prekeys.fetch', rid: i, ik: victim.ik });
      replies.push(await c.reply(i));
      c.close();
    }
    const kinds = replies.map((r) =>
      r.t === 'prekeys.bundle' ? (r.bundle.opk && !r.bundle.pq.lastResort ? 'one_time' : !r.bundle.opk && r.bundle.pq.lastResort ? 'last_resort' : 'mixed') : r.t === 'error' ? r.code : r.t,
    );
    expect(kinds).toEqual([...Array(5).fill('one_time'), ...Array(7).fill('last_resort'), 'rate_limited', 'rate_limited']);
    // The pool kept what the budget did not spend.
    owner.send({ t: 'prekeys.publish', rid: 2, bundle: signedBundle(victim, 0, 0) });
    expect(await owner.reply(2)).toMatchObject({ t: 'prekeys.published', opks: 15, pqopks: 15 });
    expect(await scrape(http, /^petrel_prekey_fetches_total\{result="last_resort_budget"\} (\d+)$/m)).toBe(7);
    expect(await scrape(http, /^petrel_rate_limited_total\{bucket="target_fetch"\} (\d+)$/m)).toBe(2);
    owner.close();
  });
});
