import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type JobBoard, openJobBoard, openRunStore } from '../../src/index.ts';
import {
  type ConductorProcess,
  checkExecutions,
  readExecutions,
  startConductor,
  waitForAll,
} from '../support/conductors.ts';
import {
  POSTGRES_URL,
  postgresUnavailable,
  REDIS_URL,
  redisUnavailable,
  TestPrefixes,
  TestSchemas,
} from '../support/servers.ts';

// Several conductor processes share one board; some are killed with SIGKILL at random moments
// and replaced. Every job must end exactly once with the right outcome, no task may run under
// two owners at once, and only the atoms in flight when an owner died may run again.

const dir = mkdtempSync(join(tmpdir(), 'taskflow-conductors-'));
const schemas = new TestSchemas();
const prefixes = new TestPrefixes();
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await schemas.dropAll().catch(() => undefined);
  await prefixes.dropAll().catch(() => undefined);
});

const TTL_MS = 600;

interface Backend {
  readonly name: string;
  unavailable(): Promise<string | false>;
  urls(tag: string): { board: string; runs: string };
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'SQLite',
    unavailable: async () => false,
    urls: (tag) => ({
      board: `sqlite://${join(dir, `${tag}-jobs.db`)}`,
      runs: `sqlite://${join(dir, `${tag}-runs.db`)}`,
    }),
  },
  {
    name: 'PostgreSQL',
    unavailable: postgresUnavailable,
    urls: () => {
      const url = `${POSTGRES_URL}?schema=${schemas.next()}`;
      return { board: url, runs: url };
    },
  },
  {
    name: 'Redis',
    unavailable: async () => (await redisUnavailable()) || (await postgresUnavailable()),
    urls: () => ({
      board: `${REDIS_URL}?prefix=${prefixes.next()}`,
      runs: `${POSTGRES_URL}?schema=${schemas.next()}`,
    }),
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stopAll(conductors: Iterable<ConductorProcess>): Promise<void> {
  for (const conductor of conductors) conductor.child.kill('SIGTERM');
  await Promise.all([...conductors].map((conductor) => conductor.exited));
}

describe('conductors under faults', { concurrency: 1 }, () => {
  for (const backend of BACKENDS) {
    test(`${backend.name}: conductors killed at random moments and replaced finish every job exactly once`, async (t) => {
      const unavailable = await backend.unavailable();
      if (unavailable) {
        t.skip(unavailable);
        return;
      }
      const urls = backend.urls('kill');
      const effects = join(dir, `${backend.name}-kill.log`);
      writeFileSync(effects, '');
      const env = {
        BOARD_URL: urls.board,
        RUNS_URL: urls.runs,
        EFFECTS: effects,
        TTL_MS: String(TTL_MS),
        SLOW_MS: '150',
      };
      const board: JobBoard = await openJobBoard(urls.board);
      const runs = await openRunStore(urls.runs);
      const live = new Map<string, ConductorProcess>();
      const killedAt = new Map<string, number>();
      try {
        const jobs = [];
        for (let i = 0; i < 16; i++) {
          jobs.push(
            await board.post({
              name: `j${i}`,
              flow: { name: 'work', version: '1' },
              store: { job: `j${i}`, fail: i % 5 === 4 },
            }),
          );
        }
        let serial = 0;
        const spawnOne = async () => {
          const conductor = await startConductor(`c${++serial}`, env);
          live.set(conductor.name, conductor);
        };
        await Promise.all([spawnOne(), spawnOne(), spawnOne()]);
        let seed = 7;
        for (let kill = 0; kill < 4; kill++) {
          await sleep(350);
          seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
          const victims = [...live.values()];
          const victim = victims[seed % victims.length] as ConductorProcess;
          victim.child.kill('SIGKILL');
          killedAt.set(victim.name, Date.now());
          live.delete(victim.name);
          await victim.exited;
          await spawnOne();
        }
        const done = await waitForAll(board, jobs, 90_000);
        await stopAll(live.values());
        for (const job of done) {
          const fail = job.store.fail === true;
          assert.equal(job.state, 'COMPLETE', `${job.name} ${job.deadLetterReason ?? ''}`);
          assert.equal(job.outcome?.state, fail ? 'REVERTED' : 'SUCCESS', job.name);
          assert.equal((await runs.loadRun(job.id))?.flow.state, fail ? 'REVERTED' : 'SUCCESS');
        }
        const outputs = [...live.values()].flatMap((c) => c.output);
        const completions = new Map<string, number>();
        for (const conductor of [...live.values()]) {
          for (const line of conductor.output) {
            const [type, jobId = ''] = line.split(' ');
            if (type === 'completed') completions.set(jobId, (completions.get(jobId) ?? 0) + 1);
          }
        }
        for (const count of completions.values())
          assert.equal(count, 1, 'a job was completed twice');
        assert.ok(!outputs.some((line) => line.startsWith('stderr')), outputs.join('\n'));
        checkExecutions(readExecutions(effects), killedAt);
      } finally {
        for (const conductor of live.values()) conductor.child.kill('SIGKILL');
        await board.close();
        await runs.close();
      }
    });
  }

  for (const backend of BACKENDS.slice(0, 2)) {
    test(`${backend.name}: a zombie owner paused past its lease is refused when it wakes up`, async (t) => {
      const unavailable = await backend.unavailable();
      if (unavailable) {
        t.skip(unavailable);
        return;
      }
      const urls = backend.urls('zombie');
      const effects = join(dir, `${backend.name}-zombie.log`);
      writeFileSync(effects, '');
      const env = {
        BOARD_URL: urls.board,
        RUNS_URL: urls.runs,
        EFFECTS: effects,
        TTL_MS: '400',
        SLOW_MS: '1500',
      };
      const board = await openJobBoard(urls.board);
      const started: ConductorProcess[] = [];
      try {
        const job = await board.post({
          name: 'slow',
          flow: { name: 'work', version: '1' },
          store: { job: 'slow', fail: false },
        });
        const zombie = await startConductor('zombie', env);
        started.push(zombie);
        while (!readExecutions(effects).some((e) => e.task === 'two')) await sleep(20);
        zombie.child.kill('SIGSTOP');
        const heir = await startConductor('heir', env);
        started.push(heir);
        while (!readExecutions(effects).some((e) => e.task === 'two' && e.owner === 'heir'))
          await sleep(20);
        zombie.child.kill('SIGCONT');
        const done = await board.wait(job.id, { timeoutMs: 30_000 });
        await sleep(600);
        await stopAll(started);
        assert.equal(done.outcome?.state, 'SUCCESS');
        assert.equal(done.owner, 'heir', 'the heir completed the job');
        assert.ok(
          zombie.output.some((line) => line === `lost ${job.id}`),
          zombie.output.join('\n'),
        );
        assert.ok(
          !zombie.output.some((line) => line.startsWith('completed')),
          'the zombie must not complete the job',
        );
        assert.ok(
          heir.output.some((line) => line === `completed ${job.id}`),
          heir.output.join('\n'),
        );
        const three = readExecutions(effects).filter((e) => e.task === 'three');
        assert.deepEqual(
          three.map((e) => e.owner),
          ['heir'],
          'after waking, the zombie started nothing more',
        );
      } finally {
        for (const conductor of started) conductor.child.kill('SIGKILL');
        await board.close();
      }
    });
  }

  test('SQLite: SIGTERM suspends the engine and gives the job back at once, without waiting for the lease', async () => {
    const urls = BACKENDS[0]?.urls('sigterm') ?? { board: '', runs: '' };
    const effects = join(dir, 'sigterm.log');
    writeFileSync(effects, '');
    const env = {
      BOARD_URL: urls.board,
      RUNS_URL: urls.runs,
      EFFECTS: effects,
      TTL_MS: '60000',
      SLOW_MS: '800',
    };
    const board = await openJobBoard(urls.board);
    const started: ConductorProcess[] = [];
    try {
      const job = await board.post({
        name: 'long',
        flow: { name: 'work', version: '1' },
        store: { job: 'long', fail: false },
      });
      const first = await startConductor('first', env);
      started.push(first);
      while (!readExecutions(effects).some((e) => e.task === 'two')) await sleep(20);
      first.child.kill('SIGTERM');
      await first.exited;
      assert.equal(first.child.exitCode, 0);
      const given = await board.get(job.id);
      assert.equal(given?.state, 'UNCLAIMED', 'the job is free at once, not after the 60 s lease');
      assert.equal(given?.attempts, 0, 'a graceful stop does not count as a failed attempt');
      const second = await startConductor('second', env);
      started.push(second);
      const done = await board.wait(job.id, { timeoutMs: 20_000 });
      assert.equal(done.outcome?.state, 'SUCCESS');
      const executions = readExecutions(effects);
      assert.deepEqual(
        executions.map((e) => `${e.task}:${e.owner}`),
        ['one:first', 'two:first', 'three:second'],
        'the atom in flight finished before the stop, and nothing ran twice',
      );
    } finally {
      await stopAll(started);
      await board.close();
    }
  });
});
