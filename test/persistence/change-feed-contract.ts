import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Engine,
  linearFlow,
  type RunChange,
  type RunChangeFeed,
  type RunStore,
  task,
} from '../../src/index.ts';

/** A run store and the change feed of the same database. */
export interface FeedBackend {
  readonly runs: RunStore;
  readonly feed: RunChangeFeed;
}

const flow = () =>
  linearFlow('feed-check', [
    task({
      name: 'first',
      provides: 'one',
      execute: () => 1,
    }),
    task({ name: 'second', requires: ['one'], execute: ({ one }: { one: number }) => one + 1 }),
  ]);

async function runOnce(runs: RunStore, runId: string): Promise<void> {
  await new Engine(flow(), { persistence: { runs, flowId: runId } }).run();
}

async function changesOf(feed: RunChangeFeed, runId: string): Promise<RunChange[]> {
  const changes: RunChange[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await feed.read({ runId, limit: 3, ...(after === undefined ? {} : { after }) });
    if (page.length === 0) return changes;
    changes.push(...page);
    after = page.at(-1)?.id;
  }
}

/** What every change feed does, on the backend `open` gives. */
export function runChangeFeedContract(
  name: string,
  open: () => Promise<FeedBackend>,
  skip: string | false = false,
): void {
  describe(`run change feed on ${name}`, { skip }, () => {
    it('records every state change of a run and its atoms, with progress, in commit order', async () => {
      const { runs, feed } = await open();
      try {
        await runOnce(runs, 'feed-run-1');
        const changes = await changesOf(feed, 'feed-run-1');
        const lines = changes.map((c) => `${c.atom ?? 'flow'}:${c.state}:${c.progress ?? '-'}`);
        assert.equal(lines[0], 'flow:PENDING:-');
        assert.equal(lines.at(-1), 'flow:SUCCESS:-');
        const first = lines.filter((l) => l.startsWith('first:'));
        // Progress reports are engine events; the feed has the progress the engine persists
        // with the atom's state.
        assert.deepEqual(first.slice(-2), ['first:RUNNING:0', 'first:SUCCESS:1']);
        assert.ok(lines.indexOf('first:SUCCESS:1') < lines.indexOf('second:SUCCESS:1'));
        assert.ok(lines.includes('flow:RUNNING:-'));
        assert.equal(new Set(changes.map((c) => c.id)).size, changes.length);
        for (const change of changes) assert.equal(change.runId, 'feed-run-1');
      } finally {
        await feed.close();
        await runs.close();
      }
    });

    it('continues behind any change id without losing or repeating one, across runs', async () => {
      const { runs, feed } = await open();
      try {
        const start = await feed.head();
        await runOnce(runs, 'feed-run-2');
        await runOnce(runs, 'feed-run-3');
        const all = await feed.read({
          limit: 1000,
          ...(start === undefined ? {} : { after: start }),
        });
        assert.deepEqual([...new Set(all.map((c) => c.runId))], ['feed-run-2', 'feed-run-3']);
        assert.equal(await feed.head(), all.at(-1)?.id);
        const middle = Math.floor(all.length / 2);
        const rest = await feed.read({ after: all[middle]?.id as string, limit: 1000 });
        assert.deepEqual(rest, all.slice(middle + 1));
        const three = await changesOf(feed, 'feed-run-3');
        assert.deepEqual(
          three,
          all.filter((c) => c.runId === 'feed-run-3'),
        );
      } finally {
        await feed.close();
        await runs.close();
      }
    });

    it('prunes the oldest changes recorded before a time, in batches, and keeps following', async () => {
      const { runs, feed } = await open();
      try {
        await runOnce(runs, 'pruned-run');
        const recorded = await changesOf(feed, 'pruned-run');
        assert.ok(recorded.length > 4, `${recorded.length} changes`);
        const oldest = Math.min(...recorded.map((change) => change.at));
        const newest = Math.max(...recorded.map((change) => change.at));
        assert.equal(await feed.prune({ before: oldest }), 0, 'nothing is older than the oldest');
        assert.equal(await feed.prune({ before: newest + 1, limit: 2 }), 2);
        const rest = await changesOf(feed, 'pruned-run');
        assert.deepEqual(rest, recorded.slice(2), 'the oldest two went first');
        let deleted = 0;
        for (let batch = -1; batch !== 0; deleted += batch) {
          batch = await feed.prune({ before: newest + 1, limit: 2 });
        }
        assert.equal(deleted, recorded.length - 2);
        assert.deepEqual(await changesOf(feed, 'pruned-run'), []);
        await runOnce(runs, 'after-prune');
        assert.ok((await changesOf(feed, 'after-prune')).length > 4, 'new changes are recorded');
      } finally {
        await feed.close();
        await runs.close();
      }
    });

    it('wakes a waiter, and refuses a change id it did not make', async () => {
      const { runs, feed } = await open();
      try {
        const controller = new AbortController();
        const waiting = feed.wait({ timeoutMs: 60_000, signal: controller.signal });
        await runOnce(runs, 'feed-run-4');
        controller.abort();
        await waiting;
        await assert.rejects(feed.read({ after: 'not-an-id' }), { code: 'INVALID_ARGUMENT' });
      } finally {
        await feed.close();
        await runs.close();
      }
    });
  });
}
