/**
 * A replayed first message never replaces a working session (issue 15, defect 1;
 * PROTOCOL.md §4.2). Alice starts a session with Bob from his last-resort keys (no one-time
 * prekey, so the first message stays acceptable as long as his signed prekeys live). After
 * more speaker changes than Bob remembers finished chains, someone holding that first
 * sealed envelope (the relay, an observer of a ws: link) deposits it again under a new
 * envelope id. Bob must count it as a replay and keep the working session: his next message
 * still reads at Alice, and nothing is shown twice.
 */
import { describe, expect, it, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { limits } from '../../src/core/crypto/index.ts';
import { metricKey } from '../../src/core/metrics.ts';
import { bytesEqual } from '../../src/core/bytes.ts';
import { decodeFrame, mailboxAddress, type Envelope } from '../../src/core/wire/index.ts';
import type { RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { TestClient } from '../relay/helpers/test-client.ts';
import { device, onboard, testWorld, texts, until } from './harness.ts';

const { relay, track } = testWorld();

/** A `ws` client that keeps every envelope its core sends to the relay (what a relay could keep). */
function recordingSocket(sent: Envelope[]): RelaySocketConstructor {
  class Recording extends NodeWebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      try {
        const frame = decodeFrame(new Uint8Array(data as ArrayBuffer));
        if (frame.t === 'send') sent.push(frame.env);
      } catch {
        // not a frame we can read: not an envelope
      }
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  return Recording as unknown as RelaySocketConstructor;
}

describe('a replayed first message', () => {
  it('is counted as a replay and never replaces the working session, after more speaker changes than the finished-chain memory', async () => {
    const r = await relay();
    const sentByAlice: Envelope[] = [];
    const alice = track(device(r.url, undefined, { WebSocket: recordingSocket(sentByAlice) }));
    let bob = track(device(r.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const bobInvite = bob.messenger.getState().me!.inviteUrl;
    const bobKey = bob.messenger.parseInvite(bobInvite)!.identityKey;
    await bob.stop();

    // Take every one-time prekey Bob published: Alice's session will use his last-resort keys.
    const thief = await TestClient.connect(r.url);
    for (let rid = 1; ; rid++) {
      thief.send({ t: 'prekeys.fetch', rid, ik: bobKey });
      const reply = await thief.reply(rid);
      if (reply.t !== 'prekeys.bundle') throw new Error(`fetch refused: ${JSON.stringify(reply)}`);
      if (!reply.bundle.opk && reply.bundle.pq.lastResort) break;
    }

    const bobId = await alice.messenger.addContact(alice.messenger.parseInvite(bobInvite)!);
    await alice.messenger.send(bobId, 'first');
    const bobMailbox = mailboxAddress(bobKey);
    await vi.waitFor(() => expect(sentByAlice.some((e) => bytesEqual(e.to, bobMailbox))).toBe(true), { timeout: 10_000, interval: 10 });
    const first = sentByAlice.find((e) => bytesEqual(e.to, bobMailbox))!;

    bob = track(await bob.reload());
    await until(bob, (s) => s.contacts.length === 1 && s.contacts[0]!.unread >= 1);
    const aliceId = bob.messenger.getState().contacts[0]!.id;
    // Alice wrote first from Bob's invite: she is a message request until Bob accepts.
    await bob.messenger.acceptRequest(aliceId);

    // More speaker changes than Bob keeps finished receiving chains for.
    const rounds = limits.MAX_FINISHED_RECEIVING_CHAINS + 2;
    for (let i = 0; i < rounds; i++) {
      await bob.messenger.send(aliceId, `bob ${i}`);
      await until(alice, (s) => s.contacts.some((c) => c.id === bobId && c.lastMessage?.text === `bob ${i}`));
      await alice.messenger.send(bobId, `alice ${i}`);
      await until(bob, (s) => s.contacts.some((c) => c.id === aliceId && c.lastMessage?.text === `alice ${i}`));
    }
    const before = await texts(bob, aliceId);

    // The relay (or anyone who kept it) deposits Alice's first envelope again, under a new id.
    thief.send({ t: 'send', rid: 9_999, env: { to: first.to, id: crypto.getRandomValues(new Uint8Array(16)), body: first.body } });
    expect((await thief.reply(9_999)).t).toBe('sent');
    await until(bob, () => bob.metrics.counter('packet.replay', { kind: 'session_start', transport: 'relay' }) === 1);

    // Bob's working session is untouched: his next message reads at Alice without her writing first.
    await bob.messenger.send(aliceId, 'after the replay');
    await until(alice, (s) => s.contacts.some((c) => c.id === bobId && c.lastMessage?.text === 'after the replay'));
    expect(alice.metrics.snapshot().counters[metricKey('crypto.failure', { reason: 'invalid_header' })]).toBeUndefined();
    expect(await texts(bob, aliceId)).toEqual([...before, 'out:after the replay']);
    thief.close();
  }, 60_000);
});
