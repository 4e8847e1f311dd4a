/**
 * Device-link channels at the real relay (docs/PROTOCOL.md §13.6): the rendezvous by
 * channel id, opaque relaying both ways, and every refusal typed and counted, with the
 * channel's budget, expiry and per-connection limit. Nothing here may crash the relay.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayFrame } from '../../src/core/wire/index.ts';
import { rid } from './helpers/devices.ts';
import { newIdentity } from './helpers/identity.ts';
import { startTestRelay, type TestRelay } from './helpers/relay-harness.ts';
import { TestClient } from './helpers/test-client.ts';
import { scrape, waitFor } from './helpers/wait-for.ts';

const ch = () => new Uint8Array(randomBytes(16));

function expectError(f: RelayFrame, code: string): void {
  expect(f.t).toBe('error');
  expect(f.t === 'error' && f.code).toBe(code);
}

const refusals = (relay: TestRelay, reason: string) => scrape(relay.http, new RegExp(`petrel_link_refusals_total\\{reason="${reason}"\\} (\\d+)`));

describe('link channels', () => {
  let relay: TestRelay;
  let expiring: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay({}, undefined, {}, { linkLimits: { maxBytes: 4096, maxFrames: 20, maxPerConnection: 2 } });
    expiring = await startTestRelay({}, undefined, {}, { linkLimits: { ttlMs: 1500 } });
  });
  afterAll(async () => {
    await relay.stop();
    await expiring.stop();
  });

  async function pair(on = relay): Promise<{ holder: TestClient; joiner: TestClient; c: Uint8Array }> {
    const holder = await TestClient.authenticated(on.url, newIdentity());
    const joiner = await TestClient.authenticated(on.url, newIdentity());
    const c = ch();
    let r = rid();
    holder.send({ t: 'link.open', rid: r, ch: c });
    expect((await holder.reply(r)).t).toBe('link.opened');
    r = rid();
    joiner.send({ t: 'link.join', rid: r, ch: c });
    expect((await joiner.reply(r)).t).toBe('link.joined');
    return { holder, joiner, c };
  }

  it('meets by channel id and relays opaque bytes both ways, in order', async () => {
    const { holder, joiner, c } = await pair();
    joiner.send({ t: 'link.data', ch: c, data: Uint8Array.of(1, 2, 3) });
    const got = await holder.next('link.data');
    expect([...got.data]).toEqual([1, 2, 3]);
    expect(got.ch).toEqual(c);
    for (let i = 0; i < 5; i++) holder.send({ t: 'link.data', ch: c, data: Uint8Array.of(i) });
    await joiner.until(() => (joiner.frames.filter((f) => f.t === 'link.data').length === 5 ? true : undefined), 'five chunks');
    expect(joiner.frames.filter((f) => f.t === 'link.data').map((f) => (f as { data: Uint8Array }).data[0])).toEqual([0, 1, 2, 3, 4]);
    // Nothing comes back to the sender.
    expect(holder.frames.filter((f) => f.t === 'link.data')).toHaveLength(0);
    holder.close();
    joiner.close();
  });

  it('refuses a busy channel, an unknown one, a second joiner and data from a stranger, each counted', async () => {
    const { holder, joiner, c } = await pair();
    const other = await TestClient.authenticated(relay.url, newIdentity());
    const before = { busy: await refusals(relay, 'busy'), notFound: await refusals(relay, 'not_found'), member: await refusals(relay, 'not_member') };
    let r = rid();
    other.send({ t: 'link.open', rid: r, ch: c });
    expectError(await other.reply(r), 'link_busy');
    r = rid();
    other.send({ t: 'link.join', rid: r, ch: c });
    expectError(await other.reply(r), 'link_busy');
    r = rid();
    other.send({ t: 'link.join', rid: r, ch: ch() });
    expectError(await other.reply(r), 'not_found');
    other.send({ t: 'link.data', ch: c, data: Uint8Array.of(9) });
    expectError(await other.next('error'), 'not_found');
    expect(await refusals(relay, 'busy')).toBe(before.busy + 2);
    expect(await refusals(relay, 'not_found')).toBe(before.notFound + 1);
    expect(await refusals(relay, 'not_member')).toBe(before.member + 1);
    // The stranger's data reached nobody.
    expect(holder.frames.some((f) => f.t === 'link.data') || joiner.frames.some((f) => f.t === 'link.data')).toBe(false);
    for (const x of [holder, joiner, other]) x.close();
  });

  it('refuses link frames before authentication', async () => {
    const anon = await TestClient.connect(relay.url);
    const r = rid();
    anon.send({ t: 'link.open', rid: r, ch: ch() });
    expectError(await anon.reply(r), 'unauthenticated');
    anon.close();
  });

  it('holds a connection to its channel limit', async () => {
    const holder = await TestClient.authenticated(relay.url, newIdentity());
    for (let i = 0; i < 2; i++) {
      const r = rid();
      holder.send({ t: 'link.open', rid: r, ch: ch() });
      expect((await holder.reply(r)).t).toBe('link.opened');
    }
    const r = rid();
    holder.send({ t: 'link.open', rid: r, ch: ch() });
    expectError(await holder.reply(r), 'link_limit');
    expect(await refusals(relay, 'too_many_channels')).toBeGreaterThanOrEqual(1);
    holder.close();
  });

  it('stops a channel at its byte budget, relaying nothing past it', async () => {
    const { holder, joiner, c } = await pair();
    holder.send({ t: 'link.data', ch: c, data: new Uint8Array(4000) });
    await joiner.next('link.data');
    holder.send({ t: 'link.data', ch: c, data: new Uint8Array(200) });
    expectError(await holder.next('error'), 'link_limit');
    // The refused chunk reached nobody (the one before it was already taken).
    expect(joiner.frames.filter((f) => f.t === 'link.data')).toHaveLength(0);
    expect(await refusals(relay, 'over_budget')).toBeGreaterThanOrEqual(1);
    holder.close();
    joiner.close();
  });

  it('tells the other end when one end leaves, and frees the channel', async () => {
    await waitFor(() => scrape(relay.http, /petrel_relay_state_entries\{map="link_channels"\} (\d+)/), (n) => n === 0, 'earlier tests\' channels gone');
    const { holder, joiner, c } = await pair();
    joiner.close();
    const closed = await holder.next('link.closed');
    expect(closed.ch).toEqual(c);
    await waitFor(() => scrape(relay.http, /petrel_relay_state_entries\{map="link_channels"\} (\d+)/), (n) => n === 0, 'link channels back to 0');
    holder.close();
  });

  it('ends an expired channel: both ends told, data refused', async () => {
    const opened = Date.now();
    const { holder, joiner, c } = await pair(expiring);
    await waitFor(() => Date.now() - opened, (ms) => ms >= 1550, 'the channel\'s 1.5 s to pass');
    holder.send({ t: 'link.data', ch: c, data: Uint8Array.of(1) });
    expectError(await holder.next('error'), 'not_found');
    await joiner.next('link.closed');
    expect(joiner.frames.some((f) => f.t === 'link.data')).toBe(false);
    expect(await refusals(expiring, 'expired')).toBe(1);
    holder.close();
    joiner.close();
  });
});
