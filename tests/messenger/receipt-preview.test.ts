/**
 * `delivered` shown from the authenticated receipt (issue 22): Alice's view shows a
 * receipt's status move as soon as the receipt decrypted under Bob's session, while its
 * commit is still in flight (ViewProjection.preview). Only her own view runs ahead of her
 * storage: the receipt's envelope is acknowledged to the relay only after the commit, and
 * a commit that fails takes the preview back (the row is read again; the relay delivers
 * the receipt again and it is committed then).
 */
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { createMemoryStore, type IncomingCommit, type PetrelStore } from '../../src/core/store/index.ts';
import { decodeFrame } from '../../src/core/wire/index.ts';
import type { RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { device, introduce, onboard, testWorld, until } from './harness.ts';

const { relay, track } = testWorld();

/** A `ws` client that counts the `ack` frames its core sends the relay. */
function ackCounting(acks: { n: number }): RelaySocketConstructor {
  class Counting extends NodeWebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      try {
        if (decodeFrame(new Uint8Array(data as ArrayBuffer)).t === 'ack') acks.n++;
      } catch {
        // not a frame we can read
      }
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  return Counting as unknown as RelaySocketConstructor;
}

/** Alice's store: a receive commit carrying receipts waits for `open()` (or fails once, writing nothing, when `fail` is set). */
function gatedReceiptStore() {
  const inner = createMemoryStore({ now: () => Date.now() });
  const store = Object.create(inner) as PetrelStore;
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => (release = r));
  const state = { waiting: 0, fail: false };
  store.commitIncomingBatch = async (batch: readonly IncomingCommit[]) => {
    if (batch.some((c) => c.statusUpdates?.length)) {
      state.waiting++;
      await gate;
      if (state.fail) {
        state.fail = false;
        throw new Error('disk went away');
      }
    }
    return inner.commitIncomingBatch(batch);
  };
  const open = () => {
    release();
    gate = Promise.resolve();
  };
  const closeAgain = () => {
    gate = new Promise<void>((r) => (release = r));
  };
  return { store, inner, state, open, closeAgain };
}

async function chat() {
  const r = await relay();
  const gated = gatedReceiptStore();
  const acks = { n: 0 };
  const alice = track(device(r.url, gated.store, { WebSocket: ackCounting(acks) }));
  const bob = track(device(r.url));
  await onboard(alice, 'Alice');
  await onboard(bob, 'Bob');
  const { aSeesB } = await introduce(alice, bob);
  await alice.messenger.openChat(aSeesB);
  return { alice, bob, aSeesB, gated, acks };
}

describe('delivered is shown from the authenticated receipt', () => {
  it('before its commit resolves; the relay is acknowledged only after the commit', async () => {
    const { alice, gated, acks, aSeesB } = await chat();
    await alice.messenger.send(aSeesB, 'hello Bob');
    await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered');
    const id = alice.messenger.getState().chat!.messages[0]!.id;
    // Shown, not stored yet, and the receipt not acknowledged to the relay.
    expect(gated.state.waiting).toBe(1);
    expect((await gated.inner.getMessage(id))?.status).toBe('sent');
    const acksBefore = acks.n;
    gated.open();
    await until(alice, () => acks.n > acksBefore);
    expect((await gated.inner.getMessage(id))?.status).toBe('delivered');
    // The commit's own projection keeps it (the store's row now).
    await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered' && s.queueDepth === 0);
  });

  it('a commit that fails takes the preview back; the receipt comes again and is committed then', async () => {
    const { alice, gated, acks, aSeesB } = await chat();
    gated.state.fail = true;
    await alice.messenger.send(aSeesB, 'hello Bob');
    await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered');
    const id = alice.messenger.getState().chat!.messages[0]!.id;
    const acksBefore = acks.n;
    // The failed commit: the row as stored again (the relay's `sent`), nothing acknowledged.
    gated.open();
    gated.closeAgain();
    await until(alice, (s) => s.chat?.messages[0]?.status === 'sent');
    expect(acks.n).toBe(acksBefore);
    expect((await gated.inner.getMessage(id))?.status).toBe('sent');
    // The pipeline tries the batch again (RECEIVE_RETRY_DELAY_MS): shown again, then committed.
    await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered');
    gated.open();
    await until(alice, () => acks.n > acksBefore);
    expect((await gated.inner.getMessage(id))?.status).toBe('delivered');
    await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered');
  });
});
