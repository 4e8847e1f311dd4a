/**
 * A push never reaches the relay's own network (issue 20): the push request's socket
 * resolves the push service's host itself and connects only to a public address, so a
 * host NAME that resolves to a private, loopback, link-local or metadata address (or DNS
 * rebinding between registration and sending) is refused and counted `address_refused`.
 */
import { rmSync } from 'node:fs';
import type { LookupAddress } from 'node:dns';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/relay/limits/memory-rate-limit-store.ts';
import { RelayMetrics } from '../../src/relay/metrics.ts';
import { isPublicAddress, NonPublicAddressError, publicAddressLookup } from '../../src/relay/push/public-address-lookup.ts';
import { PushNotifier } from '../../src/relay/push/push-notifier.ts';
import { SqlitePushStore } from '../../src/relay/push/sqlite-push-store.ts';
import { openDatabase } from '../../src/relay/storage/sqlite-database.ts';
import { newIdentity } from './helpers/identity.ts';
import { startLoopbackPushService, type LoopbackPushService } from './helpers/push-service.ts';
import { tempDataDir } from './helpers/relay-harness.ts';

const resolvesTo =
  (...addresses: string[]) =>
  (_host: string, cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
    cb(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));

function lookupOnce(lookup: ReturnType<typeof publicAddressLookup>, host = 'push.example.com'): Promise<{ err: Error | null; address: string }> {
  return new Promise((resolve) => lookup(host, {}, (err, address) => resolve({ err, address: address as string })));
}

describe('public push addresses', () => {
  it('tells public unicast addresses from the rest', () => {
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::6810:85e5', '172.32.0.1', '100.128.0.1']) expect(isPublicAddress(a), a).toBe(true);
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fd00::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });

  it('the lookup connects to a public address, and refuses a name resolving to any non-public one', async () => {
    expect(await lookupOnce(publicAddressLookup(false, resolvesTo('93.184.216.34')))).toEqual({ err: null, address: '93.184.216.34' });
    for (const bad of [['127.0.0.1'], ['169.254.169.254'], ['93.184.216.34', '10.0.0.7'], []]) {
      const { err } = await lookupOnce(publicAddressLookup(false, resolvesTo(...bad)));
      expect(err, bad.join(',')).toBeInstanceOf(NonPublicAddressError);
    }
    // Loopback only in a test configuration; never another private range.
    expect((await lookupOnce(publicAddressLookup(true, resolvesTo('127.0.0.1')))).err).toBeNull();
    expect((await lookupOnce(publicAddressLookup(true, resolvesTo('10.0.0.7')))).err).toBeInstanceOf(NonPublicAddressError);
  });
});

describe('the push notifier connects through the public-address lookup', () => {
  let service: LoopbackPushService;
  const dir = tempDataDir();
  beforeAll(async () => {
    service = await startLoopbackPushService();
  });
  afterAll(async () => {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function notifier(lookup: ReturnType<typeof publicAddressLookup>) {
    const db = openDatabase(dir, 'NORMAL');
    const store = new SqlitePushStore(db);
    const metrics = new RelayMetrics();
    const rateLimits = new MemoryRateLimitStore({ now: () => Date.now(), sweepIntervalMs: 60_000 });
    const push = await PushNotifier.open({ store, rateLimits, metrics, log: pino({ level: 'silent' }), now: () => Date.now(), ttlSeconds: 60, subject: 'mailto:ops@petrel.example', timeoutMs: 2_000, lookup });
    const count = async (result: string) => (await metrics.pushes.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
    return {
      store,
      push,
      count,
      close: async () => {
        await rateLimits.close();
        db.close();
      },
    };
  }

  it('a push host that resolves to a private address is never contacted; the same name resolving to the service is', async () => {
    const sub = service.subscribe();
    const port = new URL(sub.endpoint).port;
    const named = { ...sub, endpoint: sub.endpoint.replace(`127.0.0.1:${port}`, `push.petrel-test.example:${port}`) };
    const device = newIdentity();

    const refused = await notifier(publicAddressLookup(false, resolvesTo('127.0.0.1')));
    await refused.store.register(device.mailbox, named, Date.now());
    refused.push.wake(device.mailbox);
    await refused.push.settled();
    expect(await refused.count('address_refused')).toBe(1);
    expect(service.received.length + service.refused.length).toBe(0);
    await refused.close();

    // The name is only reachable through the lookup (no DNS here): a request arriving proves the lookup is what connects.
    const allowed = await notifier(publicAddressLookup(true, resolvesTo('127.0.0.1')));
    const other = newIdentity();
    await allowed.store.register(other.mailbox, named, Date.now());
    allowed.push.wake(other.mailbox);
    await allowed.push.settled();
    expect(await allowed.count('address_refused')).toBe(0);
    expect(service.received.length + service.refused.length).toBe(1);
    await allowed.close();
  });
});
