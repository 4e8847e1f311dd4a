/**
 * The direct path end to end in Node: two complete cores, the real relay on loopback,
 * and the WebRTC adapter over an in-memory RTCPeerConnection double. Signaling must
 * travel as encrypted `signal` frames (never mailbox deposits), messages and receipts
 * over the channel once it is open, and everything over the relay again, without loss
 * or duplicates, when the channel goes away.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/bytes.ts';
import { createMemoryStore, type PetrelStore } from '../../src/core/store/index.ts';
import type { Messenger } from '../../src/core/messenger/messenger.ts';
import { mailboxAddress } from '../../src/core/wire/index.ts';
import type { WebRtcDirectPath } from '../../src/platform/webrtc/webrtc-direct-path.ts';
import type { TestRelay } from '../relay/helpers/relay-harness.ts';
import { FakePeerConnection } from '../transport/fake-webrtc.ts';
import { fakeDirectPath } from './fake-direct-path.ts';
import { device, introduce, onboard, testWorld, texts, until, type Device } from './harness.ts';

interface DirectDevice extends Device {
  direct(): WebRtcDirectPath;
}

const { relay, defer } = testWorld();

/** The shared harness's device, plus the WebRTC direct path over the fake peer connection. */
function directDevice(relayUrl: string, store: PetrelStore = createMemoryStore({ now: () => Date.now() }), fast: { ackTimeoutMs?: number } = {}): DirectDevice {
  let direct: WebRtcDirectPath | undefined;
  const d = device(relayUrl, store, {
    routerConfig: { backoff: { baseMs: 20, capMs: 300 }, breaker: { failureThreshold: 3, openCooldownMs: 300, cooldownMultiplier: 2, maxCooldownMs: 1_000 } },
    createDirect: fakeDirectPath((d) => (direct = d), fast),
  });
  const dd: DirectDevice = { ...d, reload: () => Promise.reject(new Error('not used here')), direct: () => direct! };
  defer(() => dd.stop());
  return dd;
}

/** Envelopes the relay stored in mailboxes so far (what must not grow while direct). */
async function deposits(r: TestRelay): Promise<number> {
  const m = await r.relay.metrics.deposits.get();
  return m.values.find((v) => v.labels.result === 'stored')?.value ?? 0;
}

async function signalsForwarded(r: TestRelay): Promise<number> {
  const m = await r.relay.metrics.signals.get();
  return m.values.find((v) => v.labels.result === 'forwarded')?.value ?? 0;
}

const isDirect = (id: string) => (s: ReturnType<Messenger['getState']>) => s.contacts.find((c) => c.id === id)?.direct === true;

async function pair(r: TestRelay, fast: { ackTimeoutMs?: number } = {}) {
  const alice = directDevice(r.url, undefined, fast);
  const bob = directDevice(r.url, undefined, fast);
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  const ids = await introduce(alice, bob);
  // No session yet: nothing to encrypt signaling with, so no channel is attempted.
  expect(await signalsForwarded(r)).toBe(0);
  await alice.messenger.openChat(ids.aSeesB);
  await bob.messenger.openChat(ids.bSeesA);
  await alice.messenger.send(ids.aSeesB, 'first, over the relay');
  await until(alice, isDirect(ids.aSeesB));
  await until(bob, isDirect(ids.bSeesA));
  await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered');
  return { alice, bob, ...ids };
}

describe('direct path between two cores', () => {
  it('opens a channel after the first exchange; then messages and receipts skip the relay mailbox', async () => {
    const r = await relay();
    const { alice, bob, aSeesB, bSeesA } = await pair(r);
    expect(await signalsForwarded(r)).toBeGreaterThan(0);
    expect(alice.messenger.getState().connection).toEqual({ kind: 'online', direct: 1 });
    const before = await deposits(r);

    for (let i = 0; i < 10; i++) {
      await alice.messenger.send(aSeesB, `a${i}`);
      await bob.messenger.send(bSeesA, `b${i}`);
    }
    await until(alice, (s) => s.chat?.messages.filter((m) => m.direction === 'out' && m.status === 'delivered').length === 11);
    await until(bob, (s) => s.chat?.messages.filter((m) => m.direction === 'out' && m.status === 'delivered').length === 10);

    expect(await deposits(r)).toBe(before);
    const fromA = (await texts(bob, bSeesA)).filter((t) => t.startsWith('in:'));
    const fromB = (await texts(alice, aSeesB)).filter((t) => t.startsWith('in:'));
    expect(fromA).toEqual(['in:first, over the relay', ...Array.from({ length: 10 }, (_, i) => `in:a${i}`)]);
    expect(fromB).toEqual(Array.from({ length: 10 }, (_, i) => `in:b${i}`));
    const inbound = (await bob.store.pageMessages(bSeesA, { limit: 50 })).messages.filter((m) => m.direction === 'in');
    expect(inbound.slice(1).every((m) => m.via === 'direct')).toBe(true);
    expect(alice.metrics.counter('crypto.failure') + bob.metrics.counter('crypto.failure')).toBe(0);
  });

  it('fails over to the relay without loss or duplicates when the channel is closed, and reopens later', async () => {
    const r = await relay();
    const { alice, bob, aSeesB, bSeesA } = await pair(r);
    for (let i = 0; i < 3; i++) await alice.messenger.send(aSeesB, `direct ${i}`);
    const before = await deposits(r);

    alice.direct().pause();
    await until(alice, (s) => s.connection.kind === 'online' && s.connection.direct === 0);
    await until(bob, (s) => !isDirect(bSeesA)(s));
    for (let i = 0; i < 5; i++) {
      await alice.messenger.send(aSeesB, `relay ${i}`);
      await bob.messenger.send(bSeesA, `back ${i}`);
    }
    await until(alice, (s) => s.chat?.messages.filter((m) => m.direction === 'out' && m.status === 'delivered').length === 9);
    await until(bob, (s) => s.chat?.messages.filter((m) => m.direction === 'out' && m.status === 'delivered').length === 5);
    // Ten messages and their receipts went through the mailboxes.
    expect(await deposits(r)).toBeGreaterThanOrEqual(before + 10);
    expect((await texts(bob, bSeesA)).filter((t) => t.startsWith('in:'))).toEqual([
      'in:first, over the relay',
      'in:direct 0',
      'in:direct 1',
      'in:direct 2',
      ...Array.from({ length: 5 }, (_, i) => `in:relay ${i}`),
    ]);
    expect((await texts(alice, aSeesB)).filter((t) => t.startsWith('in:'))).toEqual(Array.from({ length: 5 }, (_, i) => `in:back ${i}`));

    // A message from Bob is an event that makes Alice try again once she allows it.
    alice.direct().resume();
    await bob.messenger.send(bSeesA, 'are you there?');
    await until(alice, isDirect(aSeesB));
    await until(bob, isDirect(bSeesA));
    expect(alice.metrics.counter('crypto.failure') + bob.metrics.counter('crypto.failure')).toBe(0);
  });

  it('a data channel that dies under a live connection is reopened by itself', async () => {
    const r = await relay();
    const { alice, bob, aSeesB, bSeesA } = await pair(r);
    const live = FakePeerConnection.created.filter((pc) => pc.channel?.readyState === 'open');
    expect(live.length).toBeGreaterThanOrEqual(2);
    for (const pc of live) pc.channel!.close();
    await until(alice, (s) => isDirect(aSeesB)(s) && alice.metrics.counter('direct.opened') >= 2);
    await until(bob, isDirect(bSeesA));
    await alice.messenger.send(aSeesB, 'after the reopen');
    await until(bob, (s) => s.chat?.messages.at(-1)?.text === 'after the reopen');
    const last = (await bob.store.pageMessages(bSeesA, { limit: 50 })).messages.at(-1)!;
    expect(last.via).toBe('direct');
  });

  it('an offer to a contact who went offline is not repeated until the contact shows up again', async () => {
    const r = await relay();
    const { alice, bob, aSeesB, bSeesA } = await pair(r);
    const offers = () => alice.metrics.counter('direct.signals.sent', { kind: 'offer' });
    await bob.stop();
    // Alice's channel dies; she tries again once, gets no answer, and gives up on Bob for now.
    await until(alice, () => alice.logs.recent().some((l) => l.msg.includes('offer unanswered')), 10_000);
    expect(offers()).toBeGreaterThanOrEqual(2);
    // Asking again (as on the next relay reconnect) starts no connection (none is even created).
    const connections = FakePeerConnection.created.length;
    alice.direct().connect({ contactId: aSeesB }, mailboxAddress(fromHex(aSeesB)));
    expect(FakePeerConnection.created.length).toBe(connections);
    expect(alice.messenger.getState().connection).toEqual({ kind: 'online', direct: 0 });

    // Bob comes back and offers himself: the channel opens, and carries his message.
    const bob2 = directDevice(r.url, bob.store);
    await bob2.messenger.start();
    await until(alice, isDirect(aSeesB));
    await until(bob2, isDirect(bSeesA));
    await bob2.messenger.send(bSeesA, 'back again');
    await alice.messenger.openChat(aSeesB);
    await until(alice, (s) => s.chat?.messages.at(-1)?.text === 'back again');
    expect((await alice.store.pageMessages(aSeesB, { limit: 50 })).messages.at(-1)!.via).toBe('direct');
  });

  it('a severed path opens the direct breaker while the relay carries everything; once healed the breaker half-opens, probes and closes', async () => {
    const r = await relay();
    const { alice, bob, aSeesB, bSeesA } = await pair(r, { ackTimeoutMs: 150 });
    const breaker = (d: DirectDevice) => d.metrics.gauge('circuit_breaker.state', { transport: 'direct' });
    const transitions = (d: DirectDevice, to: string) => d.metrics.counter('circuit_breaker.transitions', { transport: 'direct', to });
    const before = await deposits(r);
    alice.direct().sever();
    bob.direct().sever();
    // One at a time: a message behind one still in the relay's mailbox would skip the
    // channel (RelayOrderHold), and here each must try it.
    for (let i = 0; i < 5; i++) {
      await alice.messenger.send(aSeesB, `lost path ${i}`);
      await until(alice, (s) => s.chat?.messages.filter((m) => m.direction === 'out' && m.status === 'delivered').length === 2 + i);
    }
    // Each timed out on the silent channel and went through the relay; three in a row opened the breaker.
    expect(transitions(alice, 'open')).toBeGreaterThanOrEqual(1);
    expect(await deposits(r)).toBeGreaterThanOrEqual(before + 5);
    expect(alice.messenger.getState().connection).toEqual({ kind: 'online', direct: 1 });

    // The channel finally dies and cannot come back while the path is severed.
    const opened = alice.metrics.counter('direct.opened');
    alice.direct().dropChannels();
    await until(alice, (s) => s.connection.kind === 'online' && s.connection.direct === 0);
    await until(bob, (s) => !isDirect(bSeesA)(s));
    await until(alice, () => breaker(alice) === 2, 5_000);
    await bob.messenger.send(bSeesA, 'while severed');
    await until(alice, (s) => s.chat?.messages.at(-1)?.text === 'while severed');
    expect(alice.metrics.counter('direct.opened')).toBe(opened);

    // Healed: the next message is the event that reopens the channel; the first direct send is the probe.
    alice.direct().heal();
    bob.direct().heal();
    await bob.messenger.send(bSeesA, 'healed');
    await until(alice, isDirect(aSeesB));
    await until(bob, isDirect(bSeesA));
    await alice.messenger.send(aSeesB, 'direct again');
    await until(bob, (s) => s.chat?.messages.at(-1)?.text === 'direct again');
    await until(alice, () => breaker(alice) === 0);
    expect(transitions(alice, 'half_open')).toBeGreaterThanOrEqual(1);
    expect(transitions(alice, 'closed')).toBeGreaterThanOrEqual(1);
    expect((await bob.store.pageMessages(bSeesA, { limit: 50 })).messages.at(-1)!.via).toBe('direct');
    const fromA = (await texts(bob, bSeesA)).filter((t) => t.startsWith('in:'));
    expect(fromA).toEqual(['in:first, over the relay', ...Array.from({ length: 5 }, (_, i) => `in:lost path ${i}`), 'in:direct again']);
    expect(alice.metrics.counter('crypto.failure') + bob.metrics.counter('crypto.failure')).toBe(0);
  });

  it('raw frames injected on the channel are refused by the peer with typed, counted errors; the channel stays up', async () => {
    const r = await relay();
    const { alice, bob, aSeesB, bSeesA } = await pair(r);
    const refused = (reason: string) => bob.metrics.counter('packet.validation.failure', { reason });
    expect(alice.direct().inject(Uint8Array.of(0xff, 0x00, 0x13, 0x37))).toBe(1);
    await until(bob, () => refused('malformed') === 1);
    await alice.messenger.send(aSeesB, 'still here');
    await until(bob, (s) => s.chat?.messages.at(-1)?.text === 'still here');
    expect(isDirect(bSeesA)(bob.messenger.getState())).toBe(true);
    expect((await bob.store.pageMessages(bSeesA, { limit: 50 })).messages.at(-1)!.via).toBe('direct');
  });
});
