/**
 * The IndexedDB schema is the core's `PetrelSchema` (declared once in
 * `src/core/store/schema.ts`); this alias proves it is a valid `idb` `DBSchema`, so
 * `IDBPDatabase<PetrelDB>` types every store, key and index name.
 */
import type { DBSchema } from 'idb';
import type { PetrelSchema } from '../../core/store/schema.ts';

type AssertDBSchema<T extends DBSchema> = T;

export type PetrelDB = AssertDBSchema<PetrelSchema>;

export const DEFAULT_DATABASE_NAME = 'petrel';
