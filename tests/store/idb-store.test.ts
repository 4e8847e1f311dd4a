import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { openIdbStore } from '../../src/platform/idb/open-idb-store.ts';
import { storeContract } from './store-contract.ts';

storeContract('IndexedDB store (fake-indexeddb)', async (options) => {
  // A fresh factory per case: every test gets its own empty browser profile.
  const factory = new IDBFactory();
  const opts = { now: () => 1_000, ...options, factory };
  const { store } = await openIdbStore(opts);
  return {
    store,
    reopen: async () => {
      store.close();
      return (await openIdbStore(opts)).store;
    },
  };
});
