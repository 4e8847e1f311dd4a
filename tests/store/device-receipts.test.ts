/** The per-device receipt rule (issue 16): each device forward only, the message's status the best of them. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bestStatus, MAX_DEVICE_RECEIPTS, withDeviceReceipt, type DeviceReceipts } from '../../src/core/store/device-receipts.ts';
import { isForwardStatus, MESSAGE_STATUSES } from '../../src/core/store/message-status.ts';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('device receipts', () => {
  it('moves one device forward only and keeps the others', () => {
    const one = withDeviceReceipt(undefined, A, 'delivered', 1);
    expect(one).toEqual({ [A]: { status: 'delivered', at: 1 } });
    const two = withDeviceReceipt(one, B, 'read', 2);
    expect(two).toEqual({ [A]: { status: 'delivered', at: 1 }, [B]: { status: 'read', at: 2 } });
    // Replayed or late: the same object, nothing moves (the first time stays).
    expect(withDeviceReceipt(two, B, 'delivered', 3)).toBe(two);
    expect(withDeviceReceipt(two, A, 'delivered', 4)).toBe(two);
    expect(withDeviceReceipt(two, A, 'read', 5)![A]).toEqual({ status: 'read', at: 5 });
  });

  it('the status is the best state across the devices, never below what it was', () => {
    expect(bestStatus('sent', undefined)).toBe('sent');
    expect(bestStatus('sent', { [A]: { status: 'delivered', at: 1 } })).toBe('delivered');
    expect(bestStatus('sent', { [A]: { status: 'delivered', at: 1 }, [B]: { status: 'read', at: 2 } })).toBe('read');
    expect(bestStatus('read', { [A]: { status: 'delivered', at: 1 } })).toBe('read');
    expect(bestStatus('failed', { [A]: { status: 'delivered', at: 1 } })).toBe('delivered');
  });

  it('keeps at most MAX_DEVICE_RECEIPTS devices (a new one past that changes nothing; known ones still move)', () => {
    let r: DeviceReceipts | undefined;
    for (let i = 0; i < MAX_DEVICE_RECEIPTS; i++) r = withDeviceReceipt(r, i.toString(16).padStart(32, '0'), 'delivered', i);
    expect(withDeviceReceipt(r, 'f'.repeat(32), 'read', 99)).toBe(r);
    expect(withDeviceReceipt(r, '0'.repeat(32), 'read', 99)!['0'.repeat(32)]).toEqual({ status: 'read', at: 99 });
  });

  it('any order of receipts ends at the same per-device states and the same best status (property)', () => {
    const receipt = fc.record({ device: fc.constantFrom(A, B, 'c'.repeat(32)), status: fc.constantFrom('delivered' as const, 'read' as const) });
    fc.assert(
      fc.property(fc.constantFrom(...MESSAGE_STATUSES), fc.array(receipt, { maxLength: 12 }), (start, receipts) => {
        const apply = (list: typeof receipts) => list.reduce<DeviceReceipts | undefined>((acc, x, i) => withDeviceReceipt(acc, x.device, x.status, i), undefined);
        const forward = apply(receipts);
        const backward = apply([...receipts].reverse());
        const states = (r: DeviceReceipts | undefined) => Object.fromEntries(Object.entries(r ?? {}).map(([d, x]) => [d, x.status]));
        expect(states(forward)).toEqual(states(backward));
        const best = bestStatus(start, forward);
        expect(best === start || isForwardStatus(start, best)).toBe(true);
        for (const x of Object.values(forward ?? {})) expect(isForwardStatus(best, x.status)).toBe(false);
      }),
    );
  });
});
