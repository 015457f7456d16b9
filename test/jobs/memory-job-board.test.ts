import {
  createMemoryJobBoard,
  MemoryJobBoardState,
} from '../../src/jobs/memory/memory-job-board.ts';
import { runJobBoardContract } from '../../src/testing/jobboard-contract.ts';

runJobBoardContract({
  name: 'memory',
  open: async ({ now, count }) => {
    const state = new MemoryJobBoardState();
    return Array.from({ length: count }, () =>
      createMemoryJobBoard({ state, now, recheckMs: 60_000 }),
    );
  },
});
