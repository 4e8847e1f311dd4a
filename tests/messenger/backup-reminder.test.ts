/**
 * The 7-day backup reminder (issue 17): due after seven days on this device with no backup
 * (file or relay copy) and no second device; the backup keeper puts it in the view from the
 * injected clock, and a backup made takes it away.
 */
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { BACKUP_REMINDER_AFTER_MS, backupReminderDue } from '../../src/core/messenger/backup-reminder.ts';
import { BackupKeeper } from '../../src/core/messenger/backup-keeper.ts';
import type { BackupView } from '../../src/core/messenger/messenger-api.ts';
import type { MessengerContext } from '../../src/core/messenger/context.ts';
import type { DeviceListBook } from '../../src/core/messenger/device-list-book.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { generateIdentity } from '../../src/core/crypto/index.ts';
import { secureRandom } from '../../src/core/random.ts';
import { FakeClock } from '../../src/core/clock.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('backupReminderDue', () => {
  it('is due from exactly seven days with no backup, no relay copy and one device', () => {
    expect(BACKUP_REMINDER_AFTER_MS).toBe(7 * DAY);
    expect(backupReminderDue({ now: 7 * DAY - 1, since: 0, relay: false, devices: 1 })).toBe(false);
    expect(backupReminderDue({ now: 7 * DAY, since: 0, relay: false, devices: 1 })).toBe(true);
    expect(backupReminderDue({ now: 30 * DAY, since: 0, relay: false, devices: 0 })).toBe(true);
  });

  it('is never due with a backup, a relay copy or a second device, however old the account', () => {
    fc.assert(
      fc.property(fc.nat({ max: 400 }), fc.nat({ max: 10 }), fc.option(fc.nat(), { nil: undefined }), fc.boolean(), (days, devices, lastBackupAt, relay) => {
        const due = backupReminderDue({ now: days * DAY, since: 0, relay, devices, ...(lastBackupAt !== undefined ? { lastBackupAt } : {}) });
        expect(due).toBe(days >= 7 && !relay && devices < 2 && lastBackupAt === undefined);
      }),
    );
  });
});

describe('the backup keeper shows the reminder', () => {
  async function keeper(devices: number) {
    let now = 1_000;
    const store = createMemoryStore({ now: () => now });
    const identity = generateIdentity(secureRandom);
    await store.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: 'Ada', createdAt: now, nextPreKeyId: 0 });
    const views: BackupView[] = [];
    const ctx = { store, identity, clock: { now: () => now, setTimeout: () => () => undefined }, log: { child: () => ({}) }, metrics: { inc: () => undefined } } as unknown as MessengerContext;
    const book = { get: async () => (devices ? { devices: Array.from({ length: devices }, () => ({})) } : undefined) } as unknown as DeviceListBook;
    const k = new BackupKeeper({ ctx, book, displayName: () => 'Ada', changed: (p) => views.push(p.backup) });
    return { k, store, views, at: (t: number) => (now = t) };
  }

  it('not before seven days; from seven days on, until a backup is made', async () => {
    const { k, store, views, at } = await keeper(1);
    await k.show();
    expect(views.at(-1)).toEqual({ relay: false });
    at(1_000 + 7 * DAY);
    await k.show();
    expect(views.at(-1)).toEqual({ relay: false, remind: true });
    await store.setMeta('backup.madeAt', 1_000 + 7 * DAY);
    await k.show();
    expect(views.at(-1)?.remind).toBeUndefined();
  });

  it('never with a second device', async () => {
    const { k, views, at } = await keeper(2);
    at(1_000 + 30 * DAY);
    await k.show();
    expect(views.at(-1)?.remind).toBeUndefined();
  });

  it('comes up by itself in an app left open past the seven days, and stops looking once the core stops', async () => {
    const clock = new FakeClock(1_000);
    const store = createMemoryStore({ now: () => clock.now() });
    const identity = generateIdentity(secureRandom);
    await store.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: 'Ada', createdAt: clock.now(), nextPreKeyId: 0 });
    const views: BackupView[] = [];
    const ctx = { store, identity, clock, log: { child: () => ({}) }, metrics: { inc: () => undefined } } as unknown as MessengerContext;
    const book = { get: async () => undefined } as unknown as DeviceListBook;
    const k = new BackupKeeper({ ctx, book, displayName: () => 'Ada', changed: (p) => views.push(p.backup) });
    await k.show();
    expect(views.at(-1)?.remind).toBeUndefined();
    expect(clock.pending()).toBe(1);
    // Six days and 23 hours in: still nothing, but it keeps looking.
    clock.advance(7 * DAY - 60 * 60 * 1000);
    await vi.waitFor(() => expect(views.length).toBeGreaterThan(1));
    expect(views.at(-1)?.remind).toBeUndefined();
    clock.advance(60 * 60 * 1000);
    await vi.waitFor(() => expect(views.at(-1)?.remind).toBe(true));
    // Due: no timer left. A backup takes it away, and nothing looks again.
    expect(clock.pending()).toBe(0);
    await store.setMeta('backup.madeAt', clock.now());
    await k.show();
    expect(views.at(-1)?.remind).toBeUndefined();
    expect(clock.pending()).toBe(0);
    // On a newer account (not due yet) the keeper looks again later, until the core stops.
    await store.deleteMeta('backup.madeAt');
    await store.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: 'Ada', createdAt: clock.now(), nextPreKeyId: 0 });
    await k.show();
    expect(views.at(-1)?.remind).toBeUndefined();
    expect(clock.pending()).toBe(1);
    k.stop();
    expect(clock.pending()).toBe(0);
    await k.show();
    expect(clock.pending()).toBe(0);
  });
});
