/**
 * The direct path and a stale device set (issue 16, PROTOCOL.md §13.5 "A send to a stale
 * device set"): a data channel to one device never reaches the relay's check, so a copy
 * takes it only while the contact's list it was fanned out under is still the list held.
 * Once a newer list is held, the copy goes to the relay with its version, which refuses it
 * and the sender covers the new devices. The production worker and router over fake
 * transports, under a fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.ts';
import type { DeviceRouting } from '../../src/core/messenger/device-routing.ts';
import type { SendOptions } from '../../src/core/transport/index.ts';
import type { Envelope } from '../../src/core/wire/index.ts';
import { FakeTransport } from '../transport/fakes.ts';
import { contactIdOf, mailboxOf, outboxRig, type OutboxRig } from './outbox-rig.ts';

const rigs: OutboxRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.stop();
});

const NO_BREAKER = { failureThreshold: 1_000_000, openCooldownMs: 1_000, cooldownMultiplier: 1, maxCooldownMs: 1_000 };
const DEVICE = 'ab'.repeat(16);

/** A relay that records the device-list version each deposit names. */
function recordingRelay() {
  const relay = new FakeTransport('relay');
  const named: (number | undefined)[] = [];
  const send = relay.send.bind(relay);
  relay.send = (env: Envelope, options?: SendOptions) => {
    named.push(options?.deviceList?.v);
    return send(env);
  };
  return { relay, named };
}

async function setup(held: { version: number }) {
  const direct = new FakeTransport('direct');
  const { relay, named } = recordingRelay();
  const cid = contactIdOf(1);
  const devices = { listVersion: async () => held.version } as unknown as DeviceRouting;
  const r = await outboxRig([direct, relay], { breaker: NO_BREAKER }, 1, {
    contacts: [{ id: cid, displayName: 'Ada', identityKey: fromHex(cid), verification: 'unverified', addedAt: 1_000 }],
    devices,
    staleDevices: async () => {},
  });
  rigs.push(r);
  let n = 0;
  /** A copy of a message to the contact's device, fanned out under list `version`. */
  const queue = async (version: number) => {
    n++;
    const id = toHex(new Uint8Array(16).fill(n));
    await r.store.commitOutgoing({
      sessionUpdate: { contactId: cid + DEVICE, expectedVersion: n === 1 ? null : n - 1, state: new Uint8Array([n]) },
      message: { id, contactId: cid, body: `m${n}`, sentAt: r.clock.now() },
      outboxEntry: { envelopeId: id, contactId: cid, device: DEVICE, mailbox: mailboxOf(1), envelope: new Uint8Array([0xee, n]), listVersion: version },
    });
    r.worker.kick();
    await r.run(0);
    return id;
  };
  const carrier = (id: string) => (direct.sent.some((e) => toHex(e.id) === id) ? 'direct' : relay.sent.some((e) => toHex(e.id) === id) ? 'relay' : 'unsent');
  return { r, queue, carrier, named };
}

describe('a copy over a direct channel and the list it was fanned out under', () => {
  it('goes direct while the list it follows is the one held', async () => {
    const { r, queue, carrier } = await setup({ version: 2 });
    const id = await queue(2);
    expect(carrier(id)).toBe('direct');
    expect(r.metrics.counter('devices.direct_skipped_stale_list')).toBe(0);
  });

  it('goes to the relay, naming its version, once a newer list of the contact is held', async () => {
    const held = { version: 1 };
    const { r, queue, carrier, named } = await setup(held);
    // A devices.changed push (or a fetch) brought version 2 after this copy was fanned out under 1.
    held.version = 2;
    const id = await queue(1);
    expect(carrier(id)).toBe('relay');
    expect(named).toEqual([1]);
    expect(r.metrics.counter('devices.direct_skipped_stale_list')).toBe(1);
  });
});
