/**
 * Versioned migrations of the IndexedDB schema. Migration N takes a database at
 * version N-1 to version N inside the upgrade (`versionchange`) transaction; the runner
 * applies every step from the stored version to the target in order, so a profile
 * several versions behind catches up in one open. A step that fails aborts the upgrade
 * transaction: the database stays at its old version with its data intact.
 *
 * Each step declares its own stores literally (never from the live STORE_DEFINITIONS),
 * so changing the current schema later cannot change what an old step did.
 */
import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { PetrelDB } from './schema.ts';

export type UpgradeTx = IDBPTransaction<PetrelDB, StoreNames<PetrelDB>[], 'versionchange'>;

/** One schema step. May read and rewrite data through `tx` (awaiting only its requests). */
export type Migration = (db: IDBPDatabase<PetrelDB>, tx: UpgradeTx) => void | Promise<void>;

/** Version 1: the first schema. */
export const migrateToV1: Migration = (db) => {
  db.createObjectStore('identity', { keyPath: 'id' });
  db.createObjectStore('preKeys', { keyPath: 'id' });
  db.createObjectStore('sessions', { keyPath: 'contactId' });
  db.createObjectStore('contacts', { keyPath: 'id' });
  const conversations = db.createObjectStore('conversations', { keyPath: 'contactId' });
  conversations.createIndex('byActivity', 'lastActivityAt');
  const messages = db.createObjectStore('messages', { keyPath: 'id' });
  messages.createIndex('byConversation', ['contactId', 'order']);
  const outbox = db.createObjectStore('outbox', { keyPath: 'envelopeId' });
  outbox.createIndex('byStateDue', ['state', 'nextAttemptAt']);
  outbox.createIndex('byContactSeq', ['contactId', 'seq']);
  const dedup = db.createObjectStore('dedup', { keyPath: 'envelopeId' });
  dedup.createIndex('byAt', 'at');
  db.createObjectStore('metrics', { keyPath: 'key' });
  db.createObjectStore('meta', { keyPath: 'key' });
};

/** Version 2: groups (issue 18): group logs, sender keys, messages waiting for a key, group sends not yet deposited. */
export const migrateToV2: Migration = (db) => {
  db.createObjectStore('groups', { keyPath: 'id' });
  const senderKeys = db.createObjectStore('senderKeys', { keyPath: 'key' });
  senderKeys.createIndex('byGroup', 'groupId');
  const held = db.createObjectStore('groupHeld', { keyPath: 'id' });
  held.createIndex('byGroup', ['groupId', 'heldAt']);
  db.createObjectStore('groupOutbox', { keyPath: 'messageId' });
};

/** Step N at index N (index 0 unused). Append new steps; never edit a shipped one. */
export const MIGRATIONS: readonly (Migration | undefined)[] = [undefined, migrateToV1, migrateToV2];

export class MissingMigrationError extends Error {
  constructor(readonly version: number) {
    super(`no migration to schema version ${version}`);
    this.name = 'MissingMigrationError';
  }
}

/**
 * Runs steps oldVersion+1 … newVersion in order inside the upgrade transaction.
 * Returns a promise that settles when the last step is done; a rejection aborts the upgrade.
 */
export async function runMigrations(
  db: IDBPDatabase<PetrelDB>,
  tx: UpgradeTx,
  oldVersion: number,
  newVersion: number,
  migrations: readonly (Migration | undefined)[] = MIGRATIONS,
): Promise<void> {
  for (let v = oldVersion + 1; v <= newVersion; v++) {
    const step = migrations[v];
    if (!step) throw new MissingMigrationError(v);
    await step(db, tx);
  }
}
