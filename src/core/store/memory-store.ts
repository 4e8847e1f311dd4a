/** The in-memory store: the same operations and all-or-nothing semantics as IndexedDB, for unit tests and Node. */
import { MemoryBackend } from './memory-backend.ts';
import { BackendPetrelStore, type PetrelStoreOptions } from './petrel-store.ts';
import type { PetrelStore } from './store-api.ts';

export function createMemoryStore(options: PetrelStoreOptions): PetrelStore {
  return new BackendPetrelStore(new MemoryBackend(), options);
}
