/** The core's durable storage: interfaces, schema, the atomic operations and the in-memory backend. */
export type { BackendTx, KeyRangeQuery, StoreBackend, TableQuery, TxMode, TxOptions, TxTable } from './backend.ts';
export * from './errors.ts';
export * from './limits.ts';
export { isForwardStatus, MESSAGE_STATUSES } from './message-status.ts';
export { MemoryBackend } from './memory-backend.ts';
export { createMemoryStore } from './memory-store.ts';
export { BackendPetrelStore, type PetrelStoreOptions } from './petrel-store.ts';
export type * from './records.ts';
export { keyAt, SCHEMA_VERSION, STORE_DEFINITIONS, STORE_NAMES } from './schema.ts';
export type { IndexName, KeyOf, PetrelSchema, StoreDefinition, StoreDefinitions, StoreKey, StoreName, ValueOf } from './schema.ts';
export { SessionCache, SessionCachingStore, type SessionRowCheck } from './session-cache.ts';
export { GroupStore, type GroupCommit } from './group-store.ts';
export { groupInboxKey, type GroupInboxRow, type NewGroupInboxFrame } from './group-inbox.ts';
export type { ImportedMessage } from './history-import.ts';
export type { SystemLine } from './system-line.ts';
export { toStoreError } from './storage-errors.ts';
export { StorageHealth, type StorageHealthView, type StorageState } from './storage-health.ts';
export type * from './store-api.ts';
