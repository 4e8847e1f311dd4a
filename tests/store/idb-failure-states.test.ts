/**
 * Storage failures as the core sees them: a typed error per failure and an observable
 * state (`quota_exceeded | blocked | closed | version_changed`), with nothing
 * half-written and what was stored before still there.
 */
import 'fake-indexeddb/auto';
import { forceCloseDatabase, IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
  BackendPetrelStore,
  StorageClosedError,
  StorageHealth,
  StorageQuotaExceededError,
  StorageVersionChangedError,
  type StorageState,
} from '../../src/core/store/index.ts';
import { migrateToV1, migrateToV2, type Migration } from '../../src/platform/idb/migrations.ts';
import { openIdbStore } from '../../src/platform/idb/open-idb-store.ts';
import { FaultBackend } from './fault-backend.ts';
import { contactId, outgoing } from './fixtures.ts';
import { snapshot } from './snapshot.ts';

const noopV3: Migration = () => undefined;

function recordStates(health: { subscribe(l: (s: StorageState) => void): () => void }): StorageState[] {
  const states: StorageState[] = [];
  health.subscribe((s) => states.push(s));
  return states;
}

describe('IndexedDB failure states', () => {
  it('quota exceeded: typed error, state quota_exceeded, nothing written; the next successful write clears it', async () => {
    const { backend } = await openIdbStore({ factory: new IDBFactory(), now: () => 1 });
    const faults = new FaultBackend(backend, () => undefined);
    const store = new BackendPetrelStore(faults, { now: () => 1 });
    await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
    const before = await snapshot(store, [1]);
    const states = recordStates(store.health);

    faults.arm({ afterWrite: 2, kind: 'quota' });
    await expect(store.commitOutgoing(outgoing({ contact: 1, expectedVersion: 1 }))).rejects.toBeInstanceOf(StorageQuotaExceededError);
    expect(store.health.get()).toBe('quota_exceeded');
    expect(await snapshot(store, [1])).toEqual(before);

    faults.arm(undefined);
    await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: 1 }));
    expect(states).toEqual(['quota_exceeded', 'ok']);
    expect((await store.getSession(contactId(1)))?.version).toBe(2);
  });

  it('another tab upgrading the schema: this tab closes, reports version_changed, and refuses work', async () => {
    const factory = new IDBFactory();
    const { store } = await openIdbStore({ factory, now: () => 1 });
    await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
    const states = recordStates(store.health);
    // The other tab's open is not blocked: we close as soon as we hear of it.
    const other = await openIdbStore({ factory, now: () => 1, version: 3, migrations: [undefined, migrateToV1, migrateToV2, noopV3] });
    expect(store.health.get()).toBe('version_changed');
    expect(states).toEqual(['version_changed']);
    await expect(store.queueDepth()).rejects.toBeInstanceOf(StorageVersionChangedError);
    expect((await other.store.getSession(contactId(1)))?.version).toBe(1);
    other.store.close();
  });

  it('an old connection that does not let go: the open reports blocked, then opens once it closes', async () => {
    const factory = new IDBFactory();
    (await openIdbStore({ factory, now: () => 1 })).store.close();
    const old = await new Promise<IDBDatabase>((resolve) => {
      const r = factory.open('petrel', 2);
      r.onsuccess = () => resolve(r.result);
    });
    const health = new StorageHealth();
    const states = recordStates(health);
    const opening = openIdbStore({ factory, now: () => 1, health, version: 3, migrations: [undefined, migrateToV1, migrateToV2, noopV3] });
    await expect.poll(() => health.get()).toBe('blocked');
    old.close();
    const { store } = await opening;
    expect(states).toEqual(['blocked', 'ok']);
    expect(await store.queueDepth()).toBe(0);
    store.close();
  });

  it('the browser drops the connection: state closed, typed errors, data still there after reopening', async () => {
    const factory = new IDBFactory();
    const { store, backend } = await openIdbStore({ factory, now: () => 1 });
    const out = outgoing({ contact: 1, expectedVersion: null });
    await store.commitOutgoing(out);
    forceCloseDatabase(backend.connection() as never);
    await expect.poll(() => store.health.get()).toBe('closed');
    await expect(store.commitOutgoing(outgoing({ contact: 1, expectedVersion: 1 }))).rejects.toBeInstanceOf(StorageClosedError);
    const reopened = (await openIdbStore({ factory, now: () => 1 })).store;
    expect((await reopened.getMessage(out.messageId))?.status).toBe('queued');
    reopened.close();
  });
});
