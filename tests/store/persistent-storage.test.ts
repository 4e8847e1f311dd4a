import { describe, expect, it } from 'vitest';
import { requestPersistentStorage } from '../../src/platform/idb/persistent-storage.ts';

function fakeStorage(opts: { persisted: boolean; grant: boolean; throws?: boolean }) {
  const calls: string[] = [];
  const storage = {
    persisted: async () => (calls.push('persisted'), opts.persisted),
    persist: async () => {
      calls.push('persist');
      if (opts.throws) throw new Error('denied');
      return opts.grant;
    },
    estimate: async () => ({ usage: 1_234, quota: 1_000_000 }),
  } as unknown as StorageManager;
  return { storage, calls };
}

describe('requestPersistentStorage', () => {
  it('asks only when not yet persisted and reports the answer with usage and quota', async () => {
    const granted = fakeStorage({ persisted: false, grant: true });
    expect(await requestPersistentStorage(granted.storage)).toEqual({ persisted: true, usage: 1_234, quota: 1_000_000 });
    expect(granted.calls).toEqual(['persisted', 'persist']);

    const already = fakeStorage({ persisted: true, grant: false });
    expect((await requestPersistentStorage(already.storage)).persisted).toBe(true);
    expect(already.calls).toEqual(['persisted']);

    expect((await requestPersistentStorage(fakeStorage({ persisted: false, grant: false }).storage)).persisted).toBe(false);
  });

  it('a refusal by exception or a browser without StorageManager yields an honest unknown', async () => {
    expect(await requestPersistentStorage(fakeStorage({ persisted: false, grant: false, throws: true }).storage)).toEqual({ usage: 1_234, quota: 1_000_000 });
    expect(await requestPersistentStorage(undefined)).toEqual({});
  });
});
