import { createMemoryRunStore } from '../../src/persistence/memory/memory-run-store.ts';
import { runRunStoreContract } from '../../src/testing/run-store-contract.ts';

runRunStoreContract({ name: 'memory', open: async ({ now }) => createMemoryRunStore({ now }) });
