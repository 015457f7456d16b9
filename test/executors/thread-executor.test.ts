import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { threadId } from 'node:worker_threads';
import { ThreadExecutor } from '../../src/executors/index.ts';
import {
  Engine,
  type EngineEvent,
  isRetryable,
  linearFlow,
  task,
  ValidationError,
} from '../../src/index.ts';
import { crash, fail, hash, report, spin, stale, unsafe } from './fixtures/thread-tasks.ts';

const threads = new ThreadExecutor({
  tasks: new URL('./fixtures/thread-tasks.ts', import.meta.url),
  preload: [new URL('./fixtures/typescript-loader.mjs', import.meta.url)],
  maxThreads: 2,
});
after(() => threads.close());

const onThreads = { executors: { threads } };

describe('the worker-thread executor', () => {
  it('runs a task on a thread and another in the engine, feeding one from the other', async () => {
    const seen: number[] = [];
    const flow = linearFlow('mixed', [
      task({ name: 'seed', provides: 'seed', execute: () => 'abc' }),
      hash,
      task({
        name: 'check',
        requires: ['digest'],
        execute: ({ digest }: { digest: { threadId: number } }) =>
          void seen.push(digest.threadId, threadId),
      }),
    ]);
    const engine = new Engine(flow, { ...onThreads, store: { rounds: 1000 } });
    await engine.run();
    const [worker, main] = seen;
    assert.notEqual(worker, main, 'hash ran on another thread');
    assert.equal(typeof (engine.atom('hash').result as { digest: string }).digest, 'string');
  });

  it('ends the thread of a task past its timeout, fails the atom TIMEOUT, and keeps serving', async () => {
    // One thread only: the next task can run only if the spinning thread was ended.
    const one = new ThreadExecutor({
      tasks: new URL('./fixtures/thread-tasks.ts', import.meta.url),
      preload: [new URL('./fixtures/typescript-loader.mjs', import.meta.url)],
      maxThreads: 1,
    });
    try {
      const executors = { threads: one };
      await assert.rejects(
        new Engine(linearFlow('spinning', [spin]), { executors }).run(),
        (error: unknown) => (error as { code?: string }).code === 'TIMEOUT',
      );
      const again = new Engine(linearFlow('after', [hash]), {
        executors,
        store: { seed: 'x', rounds: 1 },
      });
      assert.equal((await again.run()).state, 'SUCCESS', 'the thread was replaced');
    } finally {
      await one.close();
    }
  });

  it('fails the atom, not the engine, when its thread crashes, and reverts what ran', async () => {
    const log: string[] = [];
    const flow = linearFlow('crashing', [
      task({
        name: 'first',
        execute: () => void log.push('first'),
        revert: () => void log.push('first~'),
      }),
      crash,
    ]);
    await assert.rejects(new Engine(flow, onThreads).run(), /did not finish on its worker thread/);
    assert.deepEqual(log, ['first', 'first~']);
  });

  it("brings a task's error back with its type, message and retryable flag", async () => {
    const engine = new Engine(linearFlow('failing', [fail]), onThreads);
    await assert.rejects(engine.run(), (error: unknown) => {
      assert.equal((error as Error).name, 'TaskFlowError');
      assert.match((error as Error).message, /no quota left in region eu-2/);
      return true;
    });
    const failure = engine.atom('fail').failure;
    assert.deepEqual(
      [failure?.type, failure?.message, failure?.retryable],
      ['TaskFlowError', 'no quota left in region eu-2', true],
    );
    assert.match(failure?.stack ?? '', /thread-tasks\.ts/);
    assert.equal(isRetryable(failure), true);
  });

  it('passes attempt and idempotency key in, and progress reports out as they are made', async () => {
    const events: EngineEvent[] = [];
    const engine = new Engine(linearFlow('reporting', [report]), {
      ...onThreads,
      runId: 'run-7',
      listeners: [(event) => events.push(event)],
    });
    await engine.run();
    assert.deepEqual(engine.atom('report').result, { attempt: 1, idempotencyKey: 'run-7:report' });
    assert.ok(
      events.some((e) => e.type === 'progress' && e.progress === 0.5),
      'the half-way report arrived',
    );
  });

  it('reverts on the thread with the execute result, and refuses what JSON cannot carry', async () => {
    const flow = linearFlow('reverting', [hash, unsafe]);
    const engine = new Engine(flow, { ...onThreads, store: { seed: 's', rounds: 2 } });
    await assert.rejects(engine.run(), /cannot leave its thread as JSON: result is a BigInt/);
    const undone = engine.atom('hash').revertResult as { undid: string; threadId: number };
    assert.equal(typeof undone.undid, 'string');
    assert.notEqual(undone.threadId, threadId);
  });

  it('names the task, version and module when the threads do not have it', async () => {
    await assert.rejects(
      new Engine(linearFlow('stale', [stale]), onThreads).run(),
      /No task "hash" in version 1 is exported by .*thread-tasks\.ts \(it exports: hash@2, spin@1\.0/,
    );
  });

  it('refuses a flow whose task runs on an executor the engine was not given', () => {
    assert.throws(
      () =>
        new Engine(linearFlow('nowhere', [hash]), { store: { seed: 'a', rounds: 1 } }).compile(),
      (error: unknown) =>
        error instanceof ValidationError &&
        error.issues.some(
          (issue) =>
            issue.code === 'UNKNOWN_EXECUTOR' &&
            /runs on executor "threads", which the engine was not given/.test(issue.message),
        ),
    );
  });
});
