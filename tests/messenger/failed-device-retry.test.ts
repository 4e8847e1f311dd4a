/**
 * A message to a contact of several devices, given up on for one device while another has
 * it (issue 16), on the real relay: Bo writes to Ada, whose second device's mailbox refuses
 * his copy (mailbox_full, as the relay says it) until his send budget is spent, while her
 * first device gets it and answers. The message is delivered (the best of her devices')
 * and still names the device that never got it; Retry sends that copy alone, and Ada's
 * second device then has the message exactly once, her first device still once.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { bytesEqual, toHex } from '../../src/core/bytes.ts';
import { decodeFrame, deviceMailboxAddress, encodeFrame } from '../../src/core/wire/index.ts';
import type { RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { expectEventually, testWorld, texts, until } from './harness.ts';

const world = testWorld();

interface Deposits {
  /** Refuse (mailbox_full) every deposit to this mailbox while set. */
  refuse?: Uint8Array;
  /** Every deposit that reached the relay: its mailbox and envelope id (hex). */
  readonly sent: { readonly to: Uint8Array; readonly id: string }[];
}

/** A `ws` client that answers deposits to `deposits.refuse` itself with the relay's mailbox_full, and records the rest. */
function refusingSocket(deposits: Deposits): RelaySocketConstructor {
  class Refusing extends NodeWebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      let frame: ReturnType<typeof decodeFrame> | undefined;
      try {
        frame = decodeFrame(new Uint8Array(data as ArrayBuffer));
      } catch {
        // not a frame we can read: not a deposit
      }
      if (frame?.t === 'send') {
        const { refuse } = deposits;
        if (refuse && bytesEqual(frame.env.to, refuse)) {
          const answer = encodeFrame({ t: 'error', rid: frame.rid, code: 'mailbox_full', msg: 'mailbox full' });
          setTimeout(() => this.emit('message', Buffer.from(answer), true), 0);
          return;
        }
        deposits.sent.push({ to: frame.env.to, id: toHex(frame.env.id) });
      }
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  return Refusing as unknown as RelaySocketConstructor;
}

describe("a copy given up on for one of a contact's devices", () => {
  it('shows delivered plus the device that never got it; retry sends that copy alone, and it arrives exactly once', async () => {
    const deposits: Deposits = { sent: [] };
    const { ada1, ada2, bo, aSeesB, bSeesA, identity, one, two } = await adaOnTwoDevices(world, undefined, (who) =>
      who === 'bo'
        ? {
            WebSocket: refusingSocket(deposits),
            // A small budget: two refused rounds and the copy is given up on.
            routerConfig: { backoff: { baseMs: 20, capMs: 100 }, budget: { maxAttempts: 2, maxAgeMs: 60_000 } },
          }
        : {},
    );
    const [d1, d2] = [toHex(one.id), toHex(two.id)];
    const [box1, box2] = [deviceMailboxAddress(identity.publicKey, one.id), deviceMailboxAddress(identity.publicKey, two.id)];
    deposits.refuse = box2;
    await bo.messenger.openChat(bSeesA);
    await bo.messenger.send(bSeesA, 'only one of you');
    const row = async () => (await bo.store.pageMessages(bSeesA, { limit: 10 })).messages.find((m) => m.body === 'only one of you')!;

    // Her first device has it and answered; her second's copy was given up on.
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await expectEventually(async () => (await row()).deviceReceipts?.[d1] !== undefined && (await row()).failedDevices?.length === 1);
    const id = (await row()).id;
    expect(await row()).toMatchObject({ status: 'delivered', failedDevices: [d2] });
    const shown = await until(bo, (s) => s.chat?.messages.find((m) => m.id === id)?.failedDevices?.length === 1);
    expect(shown.chat!.messages.find((m) => m.id === id)).toMatchObject({ status: 'delivered', failedDevices: [d2] });
    expect(await texts(ada2, aSeesB)).toEqual([]);
    expect(await bo.store.queueDepth()).toBe(0);
    const toFirst = deposits.sent.filter((d) => bytesEqual(d.to, box1)).length;
    const toSecond = deposits.sent.filter((d) => bytesEqual(d.to, box2)).length;

    // Her second device's mailbox has room again: Retry sends its copy, and nothing else.
    deposits.refuse = undefined;
    await bo.messenger.retry(id);
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await expectEventually(async () => (await row()).deviceReceipts?.[d2] !== undefined);
    const done = await row();
    expect(done.status).toBe('delivered');
    expect(done.failedDevices).toBeUndefined();
    await until(bo, (s) => s.chat?.messages.find((m) => m.id === id)?.failedDevices === undefined);
    expect(await bo.store.queueDepth()).toBe(0);
    // Exactly once on each of her devices; one deposit to the second, none again to the first.
    expect(await texts(ada2, aSeesB)).toEqual(['in:only one of you']);
    expect(await texts(ada1, aSeesB)).toEqual(['in:only one of you']);
    expect(deposits.sent.filter((d) => bytesEqual(d.to, box2))).toHaveLength(toSecond + 1);
    expect(deposits.sent.filter((d) => bytesEqual(d.to, box1))).toHaveLength(toFirst);
    // A second Retry finds nothing failed: nothing is queued or sent.
    await bo.messenger.retry(id);
    expect(await bo.store.queueDepth()).toBe(0);
    expect(bo.metrics.counter('messages.retried{outcome="nothing_failed"}')).toBe(1);
  });
});
