/**
 * A message to a contact of several devices, given up on for one device while another has
 * it (issue 16), on the real relay: Bo writes to Ada, whose second device's mailbox refuses
 * his copy (mailbox_full, as the relay says it) until his send budget is spent, while her
 * first device gets it and answers. The message is delivered (the best of her devices')
 * and still names the device that never got it; Retry sends that copy alone, and Ada's
 * second device then has the message exactly once, her first device still once.
 *
 * Then, with Ada's devices offline (no receipt moves Bo's rows), each copy's outcome as
 * Bo's open chat shows it: a copy given up on while the other is still on its way leaves
 * the message queued, naming that device; a copy other than the row's first going moves
 * the row to sent on screen at once.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { bytesEqual, toHex } from '../../src/core/bytes.ts';
import { decodeFrame, deviceMailboxAddress, encodeFrame } from '../../src/core/wire/index.ts';
import type { RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { expectEventually, testWorld, texts, until, type Device } from './harness.ts';

const world = testWorld();

interface Deposits {
  /** Refuse (mailbox_full) every deposit to this mailbox while set. */
  refuse?: Uint8Array;
  /**
   * What to do with a deposit to mailbox `to` (after `refuse`): refuse it (mailbox_full),
   * hold it (neither passed to the relay nor answered, until `release`), or pass it.
   */
  decide?: (to: Uint8Array) => 'refuse' | 'hold' | 'pass';
  /** Every deposit that reached the relay: its mailbox and envelope id (hex). */
  readonly sent: { readonly to: Uint8Array; readonly id: string }[];
  /** Deposits held: each passes to the relay when called. */
  readonly held: (() => void)[];
}

/** A `ws` client that answers deposits to `deposits.refuse` itself with the relay's mailbox_full, holds what `decide` holds, and records the rest. */
function refusingSocket(deposits: Deposits): RelaySocketConstructor {
  class Refusing extends NodeWebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      let frame: ReturnType<typeof decodeFrame> | undefined;
      try {
        frame = decodeFrame(new Uint8Array(data as ArrayBuffer));
      } catch {
        // not a frame we can read: not a deposit
      }
      const pass = () => (super.send as (...a: unknown[]) => void)(data, ...rest);
      if (frame?.t === 'send') {
        const { refuse } = deposits;
        const decision = refuse && bytesEqual(frame.env.to, refuse) ? 'refuse' : (deposits.decide?.(frame.env.to) ?? 'pass');
        if (decision === 'refuse') {
          const answer = encodeFrame({ t: 'error', rid: frame.rid, code: 'mailbox_full', msg: 'mailbox full' });
          setTimeout(() => this.emit('message', Buffer.from(answer), true), 0);
          return;
        }
        const deposit = { to: frame.env.to, id: toHex(frame.env.id) };
        if (decision === 'hold') {
          deposits.held.push(() => (deposits.sent.push(deposit), pass()));
          return;
        }
        deposits.sent.push(deposit);
      }
      pass();
    }
  }
  return Refusing as unknown as RelaySocketConstructor;
}

describe("a copy given up on for one of a contact's devices", () => {
  it('shows delivered plus the device that never got it; retry sends that copy alone, and it arrives exactly once', async () => {
    const deposits: Deposits = { sent: [], held: [] };
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

/**
 * Ada on two devices, both offline once each has a first message of Bo's (no receipt moves
 * his rows after that), and Bo's chat with her open: what his chat shows of a message whose
 * copies the socket refuses or holds is the outbox's outcome alone.
 */
async function adaOffline(deposits: Deposits) {
  const world2 = await adaOnTwoDevices(world, undefined, (who) =>
    who === 'bo' ? { WebSocket: refusingSocket(deposits), routerConfig: { backoff: { baseMs: 20, capMs: 100 }, budget: { maxAttempts: 2, maxAgeMs: 60_000 } } } : {},
  );
  const { ada1, ada2, bo, aSeesB, bSeesA, identity, one, two } = world2;
  await bo.messenger.openChat(bSeesA);
  await bo.messenger.send(bSeesA, 'hello both');
  await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
  await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
  await until(bo, (s) => s.chat?.messages.some((m) => m.text === 'hello both' && m.deviceReceipts?.length === 2) === true);
  await ada1.stop();
  await ada2.stop();
  await expectEventually(async () => (await bo.store.queueDepth()) === 0);
  const boxes = [deviceMailboxAddress(identity.publicKey, one.id), deviceMailboxAddress(identity.publicKey, two.id)] as const;
  return { bo, bSeesA, devices: [toHex(one.id), toHex(two.id)] as const, boxes };
}

const shownRow = (s: ReturnType<Device['messenger']['getState']>, text: string) => s.chat?.messages.find((m) => m.text === text);

describe("a message's copies to a contact's devices, each its own outcome", () => {
  it('the first copy given up on while the other is still on its way: the row stays queued naming that device, and moves to sent when the other goes', async () => {
    const deposits: Deposits = { sent: [], held: [] };
    const { bo, bSeesA, devices, boxes } = await adaOffline(deposits);
    // Whichever copy goes first is refused until its budget is spent; the other is held on its way.
    let refused: Uint8Array | undefined;
    deposits.decide = (to) => {
      if (!boxes.some((b) => bytesEqual(b, to))) return 'pass';
      refused ??= to;
      return bytesEqual(to, refused) ? 'refuse' : 'hold';
    };
    await bo.messenger.send(bSeesA, 'one copy fails first');
    const failed = await until(bo, (s) => shownRow(s, 'one copy fails first')?.failedDevices?.length === 1);
    const gaveUpOn = devices[bytesEqual(refused!, boxes[0]) ? 0 : 1];
    // The other copy may still arrive: not failed, and no failure to show.
    expect(shownRow(failed, 'one copy fails first')).toMatchObject({ status: 'queued', failedDevices: [gaveUpOn] });
    expect(shownRow(failed, 'one copy fails first')?.failure).toBeUndefined();
    await expectEventually(async () => deposits.held.length === 1);
    expect((await bo.store.pageMessages(bSeesA, { limit: 10 })).messages.find((m) => m.body === 'one copy fails first')).toMatchObject({ status: 'queued', failedDevices: [gaveUpOn] });

    // The other copy goes: sent, still naming the device that never got it (Retry stays offered).
    deposits.held.splice(0).forEach((release) => release());
    const sent = await until(bo, (s) => shownRow(s, 'one copy fails first')?.status === 'sent');
    expect(shownRow(sent, 'one copy fails first')).toMatchObject({ status: 'sent', failedDevices: [gaveUpOn] });
    expect(await bo.store.queueDepth()).toBe(0);
  });

  it("a copy other than the row's first is sent: the open chat shows the row sent at once", async () => {
    const deposits: Deposits = { sent: [], held: [] };
    const { bo, bSeesA, boxes } = await adaOffline(deposits);
    // The row's envelope id names the copy to her first device. That copy is refused while it
    // goes before the other, and held (no outcome, nothing written) once the other went; the
    // copy to her second device always goes. Either way the move to `sent` is the other copy's.
    const before = deposits.sent.length;
    deposits.decide = (to) => {
      if (!bytesEqual(to, boxes[0])) return 'pass';
      return deposits.sent.slice(before).some((d) => bytesEqual(d.to, boxes[1])) ? 'hold' : 'refuse';
    };
    await bo.messenger.send(bSeesA, 'the second copy goes');
    const stored = async () => (await bo.store.pageMessages(bSeesA, { limit: 10 })).messages.find((m) => m.body === 'the second copy goes');
    await expectEventually(async () => (await stored())?.status === 'sent');
    // Shown within a second: well before the held copy's deposit times out (3 s) and writes.
    const shown = await until(bo, (s) => shownRow(s, 'the second copy goes')?.status === 'sent', 1_000);
    expect(shownRow(shown, 'the second copy goes')?.status).toBe('sent');
    expect(shownRow(shown, 'the second copy goes')?.failedDevices).toEqual((await stored())?.failedDevices);
    deposits.held.splice(0).forEach((release) => release());
  });
});
