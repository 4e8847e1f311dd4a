import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { clientIp } from '../../src/relay/http/client-ip.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';

const request = (xff: string | string[] | undefined, peer = '10.0.0.1') =>
  ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, socket: { remoteAddress: peer } }) as unknown as IncomingMessage;

describe('client IP', () => {
  it('is the socket peer unless the proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientIp(request('203.0.113.9'), false)).toBe('10.0.0.1');
    expect(clientIp(request(undefined), true)).toBe('10.0.0.1');
  });

  it('behind a trusted proxy, is the entry the proxy added (the last), never one the client wrote', () => {
    expect(clientIp(request('203.0.113.9'), true)).toBe('203.0.113.9');
    expect(clientIp(request('1.2.3.4, 203.0.113.9'), true)).toBe('203.0.113.9');
    expect(clientIp(request('6.6.6.6,7.7.7.7 ,  203.0.113.9 '), true)).toBe('203.0.113.9');
    expect(clientIp(request(['1.2.3.4', '2001:db8::7']), true)).toBe('2001:db8::7');
  });

  it('falls back to the socket peer when the last entry is not an address', () => {
    expect(clientIp(request('1.2.3.4, unknown'), true)).toBe('10.0.0.1');
    expect(clientIp(request('1.2.3.4,'), true)).toBe('10.0.0.1');
    expect(clientIp(request(''), true)).toBe('10.0.0.1');
  });
});

describe('per-IP limits behind a trusted proxy', () => {
  let relay: TestRelay | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.terminate();
    await relay?.stop();
  });

  it('a client cannot escape its connection cap by forging X-Forwarded-For entries', async () => {
    relay = await startTestRelay({ PETREL_TRUST_PROXY: 'true', PETREL_MAX_CONNECTIONS_PER_IP: '2' });
    const via = (forged: string) => ({ headers: { 'X-Forwarded-For': `${forged}, 198.51.100.7` } });
    clients.push(await TestClient.connect(relay.url, via('1.1.1.1')));
    clients.push(await TestClient.connect(relay.url, via('2.2.2.2')));
    await expect(TestClient.connect(relay.url, via('3.3.3.3'))).rejects.toThrow(/429/);
    // Another real client (another address added by the proxy) still gets in.
    clients.push(await TestClient.connect(relay.url, { headers: { 'X-Forwarded-For': '1.1.1.1, 198.51.100.8' } }));
  });
});
