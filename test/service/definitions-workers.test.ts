import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runTaskWorker } from '../../src/client/index.ts';
import {
  createSqliteJobBoard,
  createSqliteRunStore,
  type JobBoard,
  openPostgresJobBoard,
  openPostgresRunStore,
  openRunChangeFeed,
  type RunChangeFeed,
  type RunStore,
} from '../../src/index.ts';
import {
  DefinitionRegistry,
  type DefinitionStore,
  FLOW_DOCUMENT_FORMAT,
  openDefinitionStore,
  openTokenStore,
  openWorkerTaskQueue,
  type RunningService,
  startService,
  type TokenStore,
  type WorkerTaskQueue,
} from '../../src/service/index.ts';
import { POSTGRES_URL, testServers } from '../support/servers.ts';
import { ApiClient, type ApiResponse, assertProblem } from './api-client.ts';

const servers = await testServers('definitions-workers');
const PYTHON_WORKER = fileURLToPath(
  new URL('../../examples/workers/python_worker.py', import.meta.url),
);

/** Two worker tasks: capitals (with a revert delivered to workers too), then a count. */
const TEXT_DOCUMENT = {
  format: FLOW_DOCUMENT_FORMAT,
  name: 'text',
  version: '1',
  inputs: ['text'],
  flow: {
    type: 'linear',
    children: [
      {
        type: 'worker',
        name: 'shout',
        taskType: 'text.upper',
        requires: ['text'],
        provides: 'loud',
        revert: true,
      },
      {
        type: 'worker',
        name: 'count',
        taskType: 'text.count',
        requires: ['text'],
        rebind: { text: 'loud' },
        provides: 'length',
      },
    ],
  },
};

/** A run store and a board, and the URL of the run store's database. */
interface WorkerBackends {
  readonly url: string;
  readonly runs: RunStore;
  readonly board: JobBoard;
}

const BACKENDS: readonly {
  readonly label: string;
  readonly skip: string | false;
  readonly open: () => Promise<WorkerBackends>;
}[] = [
  {
    label: 'SQLite',
    skip: false,
    open: async () => {
      const path = join(servers.dir, 'runs.db');
      return {
        url: `sqlite://${path}`,
        runs: createSqliteRunStore({ path }),
        board: createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') }),
      };
    },
  },
  {
    label: 'PostgreSQL',
    skip: servers.pgSkip,
    open: async () => {
      const schema = servers.schemas.next();
      return {
        url: `${POSTGRES_URL}?schema=${schema}`,
        runs: await openPostgresRunStore({ url: POSTGRES_URL, schema }),
        board: await openPostgresJobBoard({ url: POSTGRES_URL, schema: servers.schemas.next() }),
      };
    },
  },
];

for (const backend of BACKENDS)
  describe(`worker tasks done by external workers over HTTP, on ${backend.label}`, {
    skip: backend.skip,
  }, () => {
    let runs: RunStore;
    let board: JobBoard;
    let tokens: TokenStore;
    let feed: RunChangeFeed;
    let definitions: DefinitionStore;
    let queue: WorkerTaskQueue;
    let registry: DefinitionRegistry;
    let service: RunningService;
    let api: ApiClient;
    let token: string;

    before(async () => {
      const opened = await backend.open();
      const { url } = opened;
      runs = opened.runs;
      board = opened.board;
      tokens = await openTokenStore(url);
      feed = await openRunChangeFeed(url);
      definitions = await openDefinitionStore(url);
      queue = await openWorkerTaskQueue(url);
      registry = await DefinitionRegistry.open({ store: definitions, workers: queue });
      service = await startService({
        runs,
        board,
        registry,
        feed,
        auth: { tokens },
        port: 0,
        conductors: 1,
        conductor: { claimWaitMs: 100 },
        dashboard: false,
      });
      token = (await tokens.create('operate', 'workers')).token;
      api = new ApiClient(service.url, { Authorization: `Bearer ${token}` });
      const stored = await api.post('/v1/definitions', TEXT_DOCUMENT);
      assert.equal(stored.status, 201, JSON.stringify(stored.body));
    });

    after(async () => {
      await service?.close();
      await registry?.close();
      await queue?.close();
      await definitions?.close();
      await feed?.close();
      await tokens?.close();
      await board?.close();
      await runs?.close();
    });

    /** Claims one task of `types`, waiting for it. */
    async function claim(types: string[], worker: string, leaseMs = 30_000): Promise<ApiResponse> {
      for (;;) {
        const claimed = await api.post('/v1/tasks/claim', { types, worker, waitMs: 2000, leaseMs });
        if (claimed.status !== 204) return claimed;
      }
    }

    /** A TypeScript worker: claims and completes `count` tasks with `handle`. */
    async function work(
      count: number,
      handle: (task: { kind: string; type: string; inputs: Record<string, unknown> }) => unknown,
    ): Promise<ApiResponse['body'][]> {
      const done = [];
      for (let i = 0; i < count; i++) {
        const task = (await claim(['text.upper', 'text.count'], 'ts-worker')).body;
        const result = handle(task);
        const completed = await api.post(`/v1/tasks/${task.id}/complete`, {
          token: task.token,
          result,
        });
        assert.equal(completed.status, 204, JSON.stringify(completed.body));
        done.push(task);
      }
      return done;
    }

    // Both task types read the argument "text": the count task rebinds it to "loud".
    const textHandler = (task: { type: string; inputs: Record<string, unknown> }) =>
      task.type === 'text.upper'
        ? String(task.inputs.text).toUpperCase()
        : String(task.inputs.text).length;

    it('runs a definition whose tasks a TypeScript worker claims and completes', async () => {
      const posted = await api.post('/v1/runs', { flow: 'text', inputs: { text: 'hello' } });
      assert.equal(posted.status, 202);
      const done = await work(2, textHandler);
      assert.deepEqual(
        done.map((t) => [t.kind, t.type, t.atom, t.attempt, t.runId, t.idempotencyKey]),
        [
          ['execute', 'text.upper', 'shout', 1, posted.body.id, `${posted.body.id}:shout`],
          ['execute', 'text.count', 'count', 1, posted.body.id, `${posted.body.id}:count`],
        ],
      );
      assert.deepEqual(done[1].inputs, { text: 'HELLO' });
      const job = await board.wait(posted.body.id);
      assert.equal(job.outcome?.state, 'SUCCESS');
      assert.deepEqual(job.outcome?.outputs, { loud: 'HELLO', length: 5 });
    });

    it('gives a task to another worker when its lease runs out, and refuses the first one', async () => {
      const posted = await api.post('/v1/runs', { flow: 'text', inputs: { text: 'abc' } });
      // This worker claims and then goes silent, as a worker killed with SIGKILL does.
      const lost = (await claim(['text.upper'], 'doomed', 1000)).body;
      assert.equal(lost.attempt, 1);
      const taken = (await claim(['text.upper'], 'heir')).body;
      assert.equal(taken.id, lost.id);
      assert.equal(taken.attempt, 2);
      const late = await api.post(`/v1/tasks/${lost.id}/complete`, {
        token: lost.token,
        result: 'X',
      });
      assertProblem(late, 409, 'lease-lost');
      const beat = await api.post(`/v1/tasks/${lost.id}/heartbeat`, { token: lost.token });
      assertProblem(beat, 409, 'lease-lost');
      assert.equal(
        (await api.post(`/v1/tasks/${taken.id}/heartbeat`, { token: taken.token })).status,
        200,
      );
      const completed = await api.post(`/v1/tasks/${taken.id}/complete`, {
        token: taken.token,
        result: 'ABC',
      });
      assert.equal(completed.status, 204);
      await work(1, textHandler);
      const job = await board.wait(posted.body.id);
      assert.deepEqual(job.outcome?.outputs, { loud: 'ABC', length: 3 });
    });

    it('redelivers the task of a worker process killed with SIGKILL while holding it', async () => {
      const posted = await api.post('/v1/runs', { flow: 'text', inputs: { text: 'kill' } });
      // A worker process that claims a task and is killed before it answers.
      const holder = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const r = await fetch(process.env.URL + '/v1/tasks/claim', { method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + process.env.TOKEN },
          body: JSON.stringify({ types: ['text.upper'], worker: 'holder', waitMs: 30000, leaseMs: 1000 }) });
        const task = await r.json();
        console.log(JSON.stringify({ id: task.id, token: task.token }));
        setInterval(() => {}, 60000);`,
        ],
        {
          env: { ...process.env, URL: service.url, TOKEN: token },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const held = await new Promise<{ id: string; token: number }>((resolve) => {
        holder.stdout.setEncoding('utf8').once('data', (line: string) => resolve(JSON.parse(line)));
      });
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
      const [redelivered] = await work(1, textHandler);
      assert.equal(redelivered.id, held.id);
      assert.equal(redelivered.attempt, 2);
      const late = await api.post(`/v1/tasks/${held.id}/complete`, {
        token: held.token,
        result: 'X',
      });
      assertProblem(late, 409, 'lease-lost');
      await work(1, textHandler);
      const job = await board.wait(posted.body.id);
      assert.deepEqual(job.outcome?.outputs, { loud: 'KILL', length: 4 });
    });

    it("makes a worker's failure the atom's failure, and delivers the revert with the execute result", async () => {
      const posted = await api.post('/v1/runs', { flow: 'text', inputs: { text: 'oops' } });
      await work(1, textHandler);
      const counting = (await claim(['text.count'], 'ts-worker')).body;
      const failed = await api.post(`/v1/tasks/${counting.id}/fail`, {
        token: counting.token,
        error: { type: 'CountError', message: 'cannot count that', details: { why: 'demo' } },
      });
      assert.equal(failed.status, 204);
      const revert = (await claim(['text.upper'], 'ts-worker')).body;
      assert.equal(revert.kind, 'revert');
      assert.equal(revert.atom, 'shout');
      assert.equal(revert.executeResult, 'OOPS');
      assert.equal(revert.idempotencyKey, `${posted.body.id}:shout:revert`);
      await api.post(`/v1/tasks/${revert.id}/complete`, { token: revert.token });
      const job = await board.wait(posted.body.id);
      assert.equal(job.outcome?.state, 'REVERTED');
      assert.equal(job.outcome?.failure?.type, 'CountError');
      assert.equal(job.outcome?.failure?.message, 'cannot count that');
    });

    it('runs a definition with the TypeScript worker helper, which heartbeats and reports errors', async () => {
      const stop = new AbortController();
      const seen: string[] = [];
      let thiefStatus = 0;
      const working = runTaskWorker({
        url: service.url,
        token,
        worker: 'helper',
        waitMs: 200,
        leaseMs: 1500,
        signal: stop.signal,
        handlers: {
          'text.upper': async (task) => {
            seen.push(`${task.kind} ${task.atom}`);
            if (task.kind === 'revert') return null;
            // Past the lease: only the helper's heartbeats keep another worker from taking it.
            await new Promise((resolve) => setTimeout(resolve, 1800));
            const thief = await api.post('/v1/tasks/claim', {
              types: ['text.upper'],
              worker: 'thief',
            });
            thiefStatus = thief.status;
            return String(task.inputs.text).toUpperCase();
          },
          'text.count': (task) => {
            seen.push(`${task.kind} ${task.atom}`);
            throw Object.assign(new RangeError(`too long: ${task.inputs.text}`), {
              details: { limit: 3 },
            });
          },
        },
      });
      const posted = await api.post('/v1/runs', { flow: 'text', inputs: { text: 'helper' } });
      const job = await board.wait(posted.body.id);
      stop.abort();
      await working;
      assert.deepEqual(seen, ['execute shout', 'execute count', 'revert shout']);
      assert.equal(thiefStatus, 204);
      assert.equal(job.outcome?.state, 'REVERTED');
      assert.equal(job.outcome?.failure?.type, 'RangeError');
      // The count task read what the shout task returned, though it ran longer than its lease.
      assert.equal(job.outcome?.failure?.message, 'too long: HELPER');
      assert.deepEqual(job.outcome?.failure?.details, { limit: 3 });
    });

    it('refuses unknown tasks and bad claims', async () => {
      assertProblem(
        await api.post('/v1/tasks/nope/complete', { token: 1, result: 1 }),
        404,
        'task-not-found',
      );
      assertProblem(
        await api.post('/v1/tasks/claim', { types: [], worker: 'w' }),
        400,
        'invalid-request',
      );
      const idle = await api.post('/v1/tasks/claim', { types: ['nothing.here'], worker: 'w' });
      assert.equal(idle.status, 204);
    });

    it('runs a definition whose tasks a Python worker does, with nothing but its standard library', async () => {
      const posted = await api.post('/v1/runs', { flow: 'text', inputs: { text: 'polyglot' } });
      const child = spawn('python3', [PYTHON_WORKER], {
        env: {
          ...process.env,
          TASKFLOW_URL: service.url,
          TASKFLOW_TOKEN: token,
          TASKFLOW_WORKER: 'python',
          TASKFLOW_MAX_TASKS: '2',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      const killer = setTimeout(() => child.kill(), 15_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(killer);
      assert.equal(code, 0, output);
      assert.match(output, /^execute text\.upper shout attempt 1$/m);
      assert.match(output, /^execute text\.count count attempt 1$/m);
      const job = await board.wait(posted.body.id);
      assert.deepEqual(job.outcome?.outputs, { loud: 'POLYGLOT', length: 8 });
    });
  });
