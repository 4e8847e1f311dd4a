import { describe, expect, it } from 'vitest';
import { getStoragePersistence, requestPersistentStorage, type PersistableStorage } from '../../src/app/pwa/persistent-storage.ts';

function fakeStorage(opts: { persisted: boolean | Error; grant: boolean | Error }) {
  let persistCalls = 0;
  let persisted = opts.persisted;
  const storage: PersistableStorage = {
    persisted: async () => {
      if (persisted instanceof Error) throw persisted;
      return persisted;
    },
    persist: async () => {
      persistCalls++;
      if (opts.grant instanceof Error) throw opts.grant;
      persisted = opts.grant;
      return opts.grant;
    },
  };
  return { storage, persistCalls: () => persistCalls };
}

describe('persistent storage', () => {
  it('reports the state without asking', async () => {
    const granted = fakeStorage({ persisted: true, grant: true });
    expect(await getStoragePersistence(granted.storage)).toBe('persisted');
    const notYet = fakeStorage({ persisted: false, grant: true });
    expect(await getStoragePersistence(notYet.storage)).toBe('best-effort');
    expect(notYet.persistCalls()).toBe(0);
  });

  it('asks once when not yet persisted and returns what the browser decided', async () => {
    const yes = fakeStorage({ persisted: false, grant: true });
    expect(await requestPersistentStorage(yes.storage)).toBe('persisted');
    expect(yes.persistCalls()).toBe(1);
    expect(await getStoragePersistence(yes.storage)).toBe('persisted');

    const no = fakeStorage({ persisted: false, grant: false });
    expect(await requestPersistentStorage(no.storage)).toBe('best-effort');
  });

  it('does not ask again when already persisted', async () => {
    const already = fakeStorage({ persisted: true, grant: false });
    expect(await requestPersistentStorage(already.storage)).toBe('persisted');
    expect(already.persistCalls()).toBe(0);
  });

  it('is unsupported without a StorageManager, and best-effort when the browser throws', async () => {
    expect(await requestPersistentStorage(null)).toBe('unsupported');
    expect(await requestPersistentStorage({})).toBe('unsupported');
    expect(await getStoragePersistence(fakeStorage({ persisted: new Error('SecurityError'), grant: true }).storage)).toBe('best-effort');
    expect(await requestPersistentStorage(fakeStorage({ persisted: false, grant: new Error('denied') }).storage)).toBe('best-effort');
  });
});
