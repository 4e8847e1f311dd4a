/**
 * Schema versions: v1 then v2 (groups) create exactly the schema the core declares; a v2
 * profile gets the group stores in place; a later version (v3, defined here only) upgrades
 * data in place; a failing step leaves the
 * database at its old version with its data; a missing step refuses to open.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, STORE_DEFINITIONS, STORE_NAMES, StoreError } from '../../src/core/store/index.ts';
import { MIGRATIONS, migrateToV1, migrateToV2 as migrateToGroups, type Migration } from '../../src/platform/idb/migrations.ts';
import { openIdbStore } from '../../src/platform/idb/open-idb-store.ts';
import { contactId, incoming, outgoing } from './fixtures.ts';

function rawOpen(factory: IDBFactory, name = 'petrel'): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = factory.open(name);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function rawGetAll(db: IDBDatabase, store: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const r = db.transaction(store).objectStore(store).getAll();
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** v3 (test only): conversations gain `muted: false`; contacts get a `byName` index; a new `drafts` store. */
const migrateToV3: Migration = async (db, tx) => {
  // The v2 types are not part of the shipped schema, so this step talks to the raw stores.
  const anyTx = tx as unknown as { objectStore(n: string): { getAll(): Promise<Array<Record<string, unknown>>>; put(v: unknown): Promise<unknown>; createIndex(n: string, k: string): unknown } };
  anyTx.objectStore('contacts').createIndex('byName', 'displayName');
  (db as unknown as { createObjectStore(n: string, o: object): unknown }).createObjectStore('drafts', { keyPath: 'contactId' });
  const conversations = anyTx.objectStore('conversations');
  for (const c of await conversations.getAll()) await conversations.put({ ...c, muted: false });
};

describe('IndexedDB schema migrations', () => {
  it('v1 and v2 create exactly the stores, key paths and indexes the core declares', async () => {
    expect(SCHEMA_VERSION).toBe(2);
    expect(MIGRATIONS).toHaveLength(SCHEMA_VERSION + 1);
    const factory = new IDBFactory();
    (await openIdbStore({ factory, now: () => 1 })).store.close();
    const db = await rawOpen(factory);
    expect(db.version).toBe(2);
    expect([...db.objectStoreNames].sort()).toEqual([...STORE_NAMES].sort());
    const tx = db.transaction([...STORE_NAMES]);
    for (const name of STORE_NAMES) {
      const store = tx.objectStore(name);
      const def = STORE_DEFINITIONS[name];
      expect(store.keyPath, name).toBe(def.keyPath);
      const indexes = def.indexes as Record<string, readonly string[]>;
      expect([...store.indexNames].sort(), name).toEqual(Object.keys(indexes).sort());
      for (const [index, path] of Object.entries(indexes)) {
        expect(store.index(index).keyPath, `${name}.${index}`).toEqual(path.length === 1 ? path[0] : path);
      }
    }
    db.close();
  });

  it('upgrades v2 data to a v3 in place and the store keeps working', async () => {
    const factory = new IDBFactory();
    const v1 = (await openIdbStore({ factory, now: () => 1 })).store;
    const out = outgoing({ contact: 1, expectedVersion: null, body: 'from v1' });
    await v1.commitOutgoing(out);
    await v1.putContact({ id: contactId(1), displayName: 'Ada', identityKey: new Uint8Array(32).fill(1), verification: 'verified', addedAt: 1 });
    const inc = incoming({ contact: 1, expectedVersion: 1 });
    await v1.commitIncoming(inc);
    v1.close();

    const v2 = (await openIdbStore({ factory, now: () => 1, version: 3, migrations: [undefined, migrateToV1, migrateToGroups, migrateToV3] })).store;
    expect((await v2.getMessage(out.messageId))?.body).toBe('from v1');
    expect((await v2.getSession(contactId(1)))?.version).toBe(2);
    expect((await v2.getContact(contactId(1)))?.verification).toBe('verified');
    expect(await v2.commitIncoming(inc)).toBe('duplicate');
    await v2.commitOutgoing(outgoing({ contact: 1, expectedVersion: 2 }));
    v2.close();

    const db = await rawOpen(factory);
    expect(db.version).toBe(3);
    expect([...db.objectStoreNames]).toContain('drafts');
    expect([...db.transaction('contacts').objectStore('contacts').indexNames]).toContain('byName');
    expect(await rawGetAll(db, 'conversations')).toEqual([expect.objectContaining({ contactId: contactId(1), muted: false })]);
    db.close();
  });

  it('a fresh profile opened at v3 runs v1, v2 then v3', async () => {
    const factory = new IDBFactory();
    (await openIdbStore({ factory, now: () => 1, version: 3, migrations: [undefined, migrateToV1, migrateToGroups, migrateToV3] })).store.close();
    const db = await rawOpen(factory);
    expect(db.version).toBe(3);
    expect([...db.objectStoreNames].sort()).toEqual([...STORE_NAMES, 'drafts'].sort());
    db.close();
  });

  it('a v1 profile gets the group stores in place (v2), its data intact, and groups work', async () => {
    const factory = new IDBFactory();
    const v1 = (await openIdbStore({ factory, now: () => 1, version: 1, migrations: [undefined, migrateToV1] })).store;
    const out = outgoing({ contact: 1, expectedVersion: null, body: 'kept' });
    await v1.commitOutgoing(out);
    v1.close();
    const v2 = (await openIdbStore({ factory, now: () => 1 })).store;
    expect((await v2.getMessage(out.messageId))?.body).toBe('kept');
    const group = { id: 'ab'.repeat(16), changes: [], applied: [], names: {}, nextOrder: 1, lastActivityAt: 1, createdAt: 1 };
    const row = { id: 'cd'.repeat(16), contactId: group.id, direction: 'in' as const, body: 'hi', sentAt: 1, order: 1, status: 'delivered' as const, updatedAt: 1, senderId: 'ef'.repeat(32) };
    expect(await v2.groups.commit({ groups: [group], messages: [row], dedup: { envelopeId: row.id, at: 1 } })).toBe('committed');
    expect(await v2.groups.commit({ messages: [{ ...row, body: 'again' }], dedup: { envelopeId: row.id, at: 2 } })).toBe('duplicate');
    expect((await v2.groups.messagesOf(group.id)).map((m) => m.body)).toEqual(['hi']);
    expect(await v2.groups.listGroups()).toHaveLength(1);
    v2.close();
  });

  it('a failing step aborts the upgrade: still v2, data intact, open rejects with a StoreError', async () => {
    const factory = new IDBFactory();
    const v1 = (await openIdbStore({ factory, now: () => 1 })).store;
    const out = outgoing({ contact: 1, expectedVersion: null });
    await v1.commitOutgoing(out);
    v1.close();
    const broken: Migration = async (db, tx) => {
      await migrateToV3(db, tx);
      throw new Error('step failed half-way');
    };
    await expect(openIdbStore({ factory, now: () => 1, version: 3, migrations: [undefined, migrateToV1, migrateToGroups, broken] })).rejects.toBeInstanceOf(StoreError);
    const db = await rawOpen(factory);
    expect(db.version).toBe(2);
    expect([...db.objectStoreNames]).not.toContain('drafts');
    db.close();
    const again = (await openIdbStore({ factory, now: () => 1 })).store;
    expect((await again.getMessage(out.messageId))?.status).toBe('queued');
    again.close();
  });

  it('a version without a migration step refuses to open and changes nothing', async () => {
    const factory = new IDBFactory();
    (await openIdbStore({ factory, now: () => 1 })).store.close();
    await expect(openIdbStore({ factory, now: () => 1, version: 4, migrations: [undefined, migrateToV1, migrateToGroups, migrateToV3] })).rejects.toBeInstanceOf(StoreError);
    const db = await rawOpen(factory);
    expect(db.version).toBe(2);
    db.close();
  });
});
