/**
 * The database schema, declared once. `PetrelSchema` is the type: store names, their
 * keys, values and index keys (it is structurally an `idb` `DBSchema`, which the
 * IndexedDB adapter passes to `openDB`, so a wrong store or index name does not
 * compile). `STORE_DEFINITIONS` is the same schema at run time: key paths and index
 * key paths, used by the in-memory backend and by the IndexedDB migrations.
 */
import type {
  ContactRecord,
  ConversationRecord,
  DedupRecord,
  GroupOutboxRecord,
  GroupRecord,
  HeldGroupMessageRecord,
  IdentityRecord,
  MessageRecord,
  MetaRecord,
  MetricRecord,
  OutboxRecord,
  PreKeyRecord,
  SenderKeyRow,
  SessionRecord,
} from './records.ts';

/** The current schema version (IndexedDB database version). Bump with a new migration. */
export const SCHEMA_VERSION = 2;

export type PetrelSchema = {
  identity: { key: 'self'; value: IdentityRecord };
  preKeys: { key: number; value: PreKeyRecord };
  sessions: { key: string; value: SessionRecord };
  contacts: { key: string; value: ContactRecord };
  conversations: { key: string; value: ConversationRecord; indexes: { byActivity: number } };
  messages: { key: string; value: MessageRecord; indexes: { byConversation: [string, number] } };
  outbox: { key: string; value: OutboxRecord; indexes: { byStateDue: [string, number]; byContactSeq: [string, number] } };
  dedup: { key: string; value: DedupRecord; indexes: { byAt: number } };
  metrics: { key: string; value: MetricRecord };
  meta: { key: string; value: MetaRecord };
  /** Version 2 (groups, issue 18). */
  groups: { key: string; value: GroupRecord };
  senderKeys: { key: string; value: SenderKeyRow; indexes: { byGroup: string } };
  groupHeld: { key: string; value: HeldGroupMessageRecord; indexes: { byGroup: [string, number] } };
  groupOutbox: { key: string; value: GroupOutboxRecord };
};

export type StoreName = keyof PetrelSchema & string;
export type KeyOf<S extends StoreName> = PetrelSchema[S]['key'];
export type ValueOf<S extends StoreName> = PetrelSchema[S]['value'];
export type IndexName<S extends StoreName> = PetrelSchema[S] extends { indexes: infer I } ? keyof I & string : never;

/** A key as IndexedDB orders it (the subset Petrel uses). */
export type StoreKey = number | string | readonly (number | string)[];

export interface StoreDefinition<S extends StoreName> {
  readonly keyPath: keyof ValueOf<S> & string;
  readonly indexes: Readonly<Record<IndexName<S>, readonly (keyof ValueOf<S> & string)[]>>;
}

export type StoreDefinitions = { readonly [S in StoreName]: StoreDefinition<S> };

/** Run-time shape of the current schema (index key paths are arrays; single-field indexes have one element). */
export const STORE_DEFINITIONS: StoreDefinitions = {
  identity: { keyPath: 'id', indexes: {} },
  preKeys: { keyPath: 'id', indexes: {} },
  sessions: { keyPath: 'contactId', indexes: {} },
  contacts: { keyPath: 'id', indexes: {} },
  conversations: { keyPath: 'contactId', indexes: { byActivity: ['lastActivityAt'] } },
  messages: { keyPath: 'id', indexes: { byConversation: ['contactId', 'order'] } },
  outbox: { keyPath: 'envelopeId', indexes: { byStateDue: ['state', 'nextAttemptAt'], byContactSeq: ['contactId', 'seq'] } },
  dedup: { keyPath: 'envelopeId', indexes: { byAt: ['at'] } },
  metrics: { keyPath: 'key', indexes: {} },
  meta: { keyPath: 'key', indexes: {} },
  groups: { keyPath: 'id', indexes: {} },
  senderKeys: { keyPath: 'key', indexes: { byGroup: ['groupId'] } },
  groupHeld: { keyPath: 'id', indexes: { byGroup: ['groupId', 'heldAt'] } },
  groupOutbox: { keyPath: 'messageId', indexes: {} },
};

export const STORE_NAMES: readonly StoreName[] = Object.keys(STORE_DEFINITIONS) as StoreName[];

/** The key of `value` in store/index `path` (a scalar for one field, an array for several). */
export function keyAt(value: object, path: readonly string[]): StoreKey {
  const v = value as Record<string, unknown>;
  if (path.length === 1) return v[path[0]!] as StoreKey;
  return path.map((p) => v[p] as number | string);
}
