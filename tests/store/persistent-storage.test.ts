import { describe, expect, it } from 'vitest';
import { readStorageReport } from '../../src/platform/idb/persistent-storage.ts';

function fakeStorage(opts: { persisted: boolean; throws?: boolean }) {
  const calls: string[] = [];
  const storage = {
    persisted: async () => {
      calls.push('persisted');
      if (opts.throws) throw new Error('no');
      return opts.persisted;
    },
    persist: async () => (calls.push('persist'), true),
    estimate: async () => ({ usage: 1_234, quota: 1_000_000 }),
  } as unknown as StorageManager;
  return { storage, calls };
}

describe('readStorageReport', () => {
  it('reports persistence with usage and quota, and never asks for it (the app asks at a better moment)', async () => {
    const not = fakeStorage({ persisted: false });
    expect(await readStorageReport(not.storage)).toEqual({ persisted: false, usage: 1_234, quota: 1_000_000 });
    expect(not.calls).toEqual(['persisted']);
    const already = fakeStorage({ persisted: true });
    expect((await readStorageReport(already.storage)).persisted).toBe(true);
    expect(already.calls).toEqual(['persisted']);
  });

  it('an error or a browser without StorageManager yields an honest unknown', async () => {
    expect(await readStorageReport(fakeStorage({ persisted: false, throws: true }).storage)).toEqual({ usage: 1_234, quota: 1_000_000 });
    expect(await readStorageReport(undefined)).toEqual({});
  });
});
