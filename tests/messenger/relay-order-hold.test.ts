/**
 * RelayOrderHold per device (issue 16): a message relayed to one device of a contact keeps
 * that device's later copies off its channel until that device's own receipt; another
 * device's receipt (which moves the message's status) releases nothing for it, and a device
 * with nothing relayed is never held. A single-device contact keeps today's rule (status).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { RelayOrderHold } from '../../src/core/messenger/relay-order-hold.ts';
import type { MessageRecord, PetrelStore } from '../../src/core/store/index.ts';

const CONTACT = 'c'.repeat(64);
const D1 = '1'.repeat(32);
const D2 = '2'.repeat(32);

function rig() {
  const rows = new Map<string, MessageRecord>();
  const store: Pick<PetrelStore, 'getMessage' | 'pageMessages'> = {
    getMessage: async (id) => rows.get(id),
    pageMessages: async () => ({ messages: [...rows.values()], hasOlder: false }) as unknown as Awaited<ReturnType<PetrelStore['pageMessages']>>,
  };
  const put = (id: string, patch: Partial<MessageRecord>) =>
    rows.set(id, { id, contactId: CONTACT, direction: 'out', body: id, sentAt: 0, order: rows.size, status: 'sent', via: 'relay', updatedAt: 0, ...rows.get(id), ...patch } as MessageRecord);
  const hold = new RelayOrderHold(store as PetrelStore, new FakeClock(0), new InMemoryMetrics(), silentLogger);
  return { hold, put };
}

describe('relay order hold per device', () => {
  it("holds one device's copies behind its own relayed copy until that device's receipt, not another's", async () => {
    const { hold, put } = rig();
    put('m1', {});
    hold.relayed(CONTACT, 'm1', D2);
    expect(await hold.keepsOffDirect(CONTACT, D2)).toBe(true);
    // Device 1 (its copy went over its channel) confirms: the message is delivered, and
    // device 1 is free, but device 2's copy is still in its mailbox.
    put('m1', { status: 'delivered', deviceReceipts: { [D1]: { status: 'delivered', at: 1 } } });
    expect(await hold.keepsOffDirect(CONTACT, D1)).toBe(false);
    expect(await hold.keepsOffDirect(CONTACT, D2)).toBe(true);
    put('m1', { deviceReceipts: { [D1]: { status: 'delivered', at: 1 }, [D2]: { status: 'delivered', at: 2 } } });
    expect(await hold.keepsOffDirect(CONTACT, D2)).toBe(false);
  });

  it('a single-device contact is held until the message leaves `sent`', async () => {
    const { hold, put } = rig();
    put('m1', {});
    hold.relayed(CONTACT, 'm1');
    expect(await hold.keepsOffDirect(CONTACT)).toBe(true);
    put('m1', { status: 'delivered' });
    expect(await hold.keepsOffDirect(CONTACT)).toBe(false);
  });

  it('after a restart the hold of each device is rebuilt from the rows: no receipt from that device, still held', async () => {
    const { hold, put } = rig();
    put('m1', { status: 'delivered', deviceReceipts: { [D1]: { status: 'delivered', at: 1 } } });
    expect(await hold.keepsOffDirect(CONTACT, D1)).toBe(false);
    expect(await hold.keepsOffDirect(CONTACT, D2)).toBe(true);
  });
});
