import { createMemoryStore } from '../../src/core/store/index.ts';
import { storeContract } from './store-contract.ts';

storeContract('in-memory store', async (options) => ({ store: createMemoryStore({ now: () => 1_000, ...options }) }));
