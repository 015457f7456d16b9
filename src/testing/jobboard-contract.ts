import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isJobBoardError, type JobBoardErrorCode } from '../jobs/job-board-error.ts';
import type { ClaimedJob, Job, JobClaim, JobEvent, JobSpec } from '../jobs/model.ts';
import type { JobBoard } from '../jobs/ports.ts';

/** Options of {@link runJobBoardContract}. */
export interface JobBoardContractOptions {
  /** Names the suite, e.g. `'sqlite'`. */
  readonly name: string;
  /**
   * Opens `count` boards over one fresh, empty board (each with its own connection where the
   * backend has connections, as separate processes would), all using `now` for time. The
   * suite closes them.
   */
  readonly open: (options: {
    readonly now: () => number;
    readonly count: number;
  }) => Promise<JobBoard[]>;
  /** A reason to skip the whole suite (e.g. the server is unreachable), or false to run it. */
  readonly skip?: string | false;
  /**
   * True for a backend whose lease times are its server's clock (PostgreSQL, Redis): `now`
   * then stamps only a post's `createdAt`, so the cases about expiry let real time pass, with
   * short TTLs, instead of advancing the fake clock, and check lease times against the
   * board's own stamps (`expiresAt` is `updatedAt` + TTL) rather than against `now`.
   * Default false: the backend uses `now` for everything (memory, SQLite).
   */
  readonly serverClock?: boolean;
}

const T0 = 1_700_000_000_000;
const FLOW = { name: 'resize', version: '1' } as const;

/** A job spec for tests; `over` replaces any field. */
export function jobSpec(name: string, over: Partial<JobSpec> = {}): JobSpec {
  return { name, flow: FLOW, ...over };
}

/** Rejects unless `promise` fails with a JobBoardError of `code` whose message matches `pattern`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: JobBoardErrorCode,
  pattern?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isJobBoardError(error, code), `expected ${code}, got ${String(error)}`);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  });
}

/** Resolves once `check` returns true, polling every 10 ms; fails after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) assert.fail(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every jobboard backend must show, as `node:test` cases: idempotent posts,
 * claim order, exclusive claims under races, lease expiry and takeover with fencing, consume,
 * abandon and dead-letter, trash, listing, conductors, notifications and waiting.
 *
 * @example
 * runJobBoardContract({
 *   name: 'memory',
 *   open: async ({ now, count }) => {
 *     const state = new MemoryJobBoardState();
 *     return Array.from({ length: count }, () => createMemoryJobBoard({ state, now }));
 *   },
 * });
 */
export function runJobBoardContract(options: JobBoardContractOptions): void {
  describe(`jobboard contract: ${options.name}`, { skip: options.skip ?? false }, () => {
    const opened: JobBoard[] = [];
    after(async () => {
      await Promise.all(opened.map((board) => board.close()));
    });
    let time = T0;
    const now = (): number => time;
    const advance = (ms: number): void => {
      time += ms;
    };
    const serverClock = options.serverClock === true;
    // A short lease, for the cases that watch one run out.
    const SHORT_TTL = serverClock ? 500 : 1000;
    /** Lets `ms` pass on the board's clock: the fake one at once, a server's for real. */
    const elapse = async (ms: number): Promise<void> => {
      advance(ms); // still stamps posts, for the server clocks too
      if (serverClock) await sleep(ms);
    };
    /** Lets the claim's lease run out: on the fake clock to the millisecond, on a server's past it. */
    const outlive = async (claim: JobClaim, ttlMs: number): Promise<void> => {
      if (serverClock) await sleep(ttlMs + 50);
      else time = Math.max(time, claim.expiresAt);
    };
    /** The claim lasts `ttlMs` from its grant, which the board stamped as `updatedAt`. */
    const assertLease = (claimed: ClaimedJob, ttlMs: number): void => {
      assert.equal(claimed.claim.expiresAt, claimed.job.updatedAt + ttlMs);
      assert.equal(claimed.job.leaseExpiresAt, claimed.claim.expiresAt);
      if (!serverClock) assert.equal(claimed.job.updatedAt, time);
    };
    const open = async (count = 1): Promise<JobBoard[]> => {
      const boards = await options.open({ now, count });
      opened.push(...boards);
      return boards;
    };
    const one = async (): Promise<JobBoard> => {
      const [board] = await open(1);
      assert.ok(board);
      return board;
    };
    const claimOne = async (
      board: JobBoard,
      owner: string,
      ttlMs = 10_000,
    ): Promise<ClaimedJob> => {
      const claimed = await board.claim({ owner, ttlMs });
      assert.ok(claimed, `${owner} expected to claim a job`);
      return claimed;
    };

    it('posts a job UNCLAIMED with token 0, and a second post with the same key returns it', async () => {
      const board = await one();
      const store = { size: [640, 480], tags: [], nested: { ключ: 'värde', x: 0.1 } };
      const job = await board.post(jobSpec('resize', { store, priority: 3, idempotencyKey: 'k1' }));
      assert.deepEqual(
        { ...job, id: 'x' },
        {
          id: 'x',
          name: 'resize',
          flow: FLOW,
          store,
          priority: 3,
          idempotencyKey: 'k1',
          createdAt: T0,
          updatedAt: T0,
          state: 'UNCLAIMED',
          owner: null,
          leaseExpiresAt: null,
          token: 0,
          attempts: 0,
          outcome: null,
          deadLetterReason: null,
          request: null,
        },
      );
      assert.deepEqual(await board.get(job.id), job);
      advance(5);
      // The same spec again (its store's keys in another order) is a retried post.
      const reordered = { nested: { x: 0.1, ключ: 'värde' }, tags: [], size: [640, 480] };
      const again = await board.post(
        jobSpec('resize', { store: reordered, priority: 3, idempotencyKey: 'k1' }),
      );
      assert.deepEqual(again, job);
      const racing = await Promise.all(
        Array.from({ length: 8 }, () => board.post(jobSpec('raced', { idempotencyKey: 'k2' }))),
      );
      assert.equal(new Set(racing.map((j) => j.id)).size, 1);
      assert.equal((await board.list()).items.length, 2);
      assert.equal(await board.get('no-such-job'), undefined);
    });

    it('refuses the same idempotency key with a different spec, naming the differing fields', async () => {
      const board = await one();
      const first = await board.post(
        jobSpec('resize', { store: { size: 1 }, priority: 2, idempotencyKey: 'k-conflict' }),
      );
      const conflicting = async (spec: JobSpec, fields: string): Promise<void> => {
        await rejectsWith(
          board.post(spec),
          'IDEMPOTENCY_CONFLICT',
          new RegExp(`"k-conflict".*"${first.id}".*different ${fields};`),
        );
      };
      const key = { idempotencyKey: 'k-conflict' } as const;
      await conflicting(jobSpec('other', { ...key, store: { size: 1 }, priority: 2 }), 'name');
      await conflicting(jobSpec('resize', { ...key, store: { size: 2 }, priority: 2 }), 'store');
      await conflicting(jobSpec('resize', { ...key, store: { size: 1 } }), 'priority');
      await conflicting(
        {
          name: 'resize',
          flow: { name: 'resize', version: '2' },
          store: { size: 1 },
          priority: 2,
          ...key,
        },
        'flow.version',
      );
      await conflicting(jobSpec('x', { ...key, priority: 2 }), 'name, store');
      await assert.rejects(board.post(jobSpec('other', key)), (error: unknown) => {
        assert.ok(isJobBoardError(error, 'IDEMPOTENCY_CONFLICT'));
        assert.equal(error.jobId, first.id);
        assert.match(error.message, /name, store, priority/);
        return true;
      });
      assert.deepEqual((await board.list()).items, [first]);
    });

    it('posts a job under the id its poster chose, once', async () => {
      const board = await one();
      const job = await board.post(
        jobSpec('chosen', { id: 'order-42', idempotencyKey: 'order-42' }),
      );
      assert.equal(job.id, 'order-42');
      const again = await board.post(
        jobSpec('chosen', { id: 'order-42', idempotencyKey: 'order-42' }),
      );
      assert.deepEqual(again, job, 'a repeated post returns the job');
      await rejectsWith(
        board.post(jobSpec('other', { id: 'order-42', idempotencyKey: 'another' })),
        'IDEMPOTENCY_CONFLICT',
        /Job id "order-42" is taken by job "chosen"/,
      );
      await rejectsWith(
        board.post(jobSpec('chosen', { id: 'order-43', idempotencyKey: 'order-42' })),
        'IDEMPOTENCY_CONFLICT',
        /different id/,
      );
      await rejectsWith(
        board.post(jobSpec('keyless', { id: 'order-44' })),
        'INVALID_ARGUMENT',
        /without an idempotency key/,
      );
      assert.equal((await board.list()).items.length, 1, 'nothing else was stored');
    });

    it('claims by priority, highest first, then oldest first', async () => {
      const board = await one();
      const ids: Record<string, string> = {};
      for (const [name, priority] of [
        ['a', 0],
        ['b', 5],
        ['c', 5],
        ['d', 0],
        ['e', -2],
      ] as const) {
        ids[name] = (await board.post(jobSpec(name, { priority }))).id;
        advance(1);
      }
      const order: string[] = [];
      for (let claimed = await board.claim({ owner: 'o', ttlMs: 1000 }); claimed; ) {
        order.push(claimed.job.name);
        assert.equal(claimed.claim.token, 1);
        assertLease(claimed, 1000);
        assert.deepEqual(claimed.claim, {
          jobId: ids[claimed.job.name],
          owner: 'o',
          token: 1,
          expiresAt: claimed.claim.expiresAt,
        });
        claimed = await board.claim({ owner: 'o', ttlMs: 1000 });
      }
      assert.deepEqual(order, ['b', 'c', 'a', 'd', 'e']);
    });

    it('gives one job to exactly one of many concurrent claimers', async () => {
      const boards = await open(4);
      const [first] = boards;
      assert.ok(first);
      const job = await first.post(jobSpec('contested'));
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          boards[i % boards.length]?.claim({ owner: `c${i}`, ttlMs: 10_000 }),
        ),
      );
      const winners = results.filter((r) => r !== undefined);
      assert.equal(winners.length, 1);
      const stored = await first.get(job.id);
      assert.equal(stored?.owner, winners[0]?.claim.owner);
      assert.equal(stored?.token, 1);
    });

    it('gives each of many jobs to exactly one of many concurrent claimers', async () => {
      const boards = await open(4);
      const [first] = boards;
      assert.ok(first);
      const posted = await Promise.all(
        Array.from({ length: 40 }, (_, i) => first.post(jobSpec(`job-${i}`, { priority: i % 3 }))),
      );
      const claims = new Map<string, string[]>();
      await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const board = boards[i % boards.length] as JobBoard;
          for (let c = await board.claim({ owner: `c${i}`, ttlMs: 10_000 }); c; ) {
            claims.set(c.job.id, [...(claims.get(c.job.id) ?? []), `c${i}`]);
            c = await board.claim({ owner: `c${i}`, ttlMs: 10_000 });
          }
        }),
      );
      assert.equal(claims.size, posted.length);
      for (const owners of claims.values()) assert.equal(owners.length, 1);
    });

    it('lets an expired lease be taken over with a higher token, and fences the old owner out', async () => {
      const [a, b] = await open(2);
      assert.ok(a && b);
      const job = await a.post(jobSpec('long'));
      const zombie = await claimOne(a, 'zombie', SHORT_TTL);
      if (!serverClock) advance(SHORT_TTL - 1);
      assert.equal(await b.claim({ owner: 'heir', ttlMs: 1000 }), undefined);
      await outlive(zombie.claim, SHORT_TTL);
      const heir = await claimOne(b, 'heir', 1000);
      assert.equal(heir.job.id, job.id);
      assert.equal(heir.claim.token, zombie.claim.token + 1);
      assert.equal(heir.job.attempts, 1, 'a lease found expired counts as a failed attempt');
      const before = await a.get(job.id);
      await rejectsWith(
        a.extend(zombie.claim, 1000),
        'FENCED',
        /taken over by "heir" with token 2/,
      );
      await rejectsWith(a.consume(zombie.claim, { state: 'SUCCESS' }), 'FENCED');
      await rejectsWith(a.abandon(zombie.claim, { reason: 'late' }), 'FENCED');
      assert.deepEqual(await a.get(job.id), before, 'fenced writes change nothing');
      const forged = { ...heir.claim, owner: 'zombie' };
      await rejectsWith(a.consume(forged, { state: 'SUCCESS' }), 'FENCED');
      assert.equal((await b.consume(heir.claim, { state: 'SUCCESS' })).state, 'COMPLETE');
    });

    it('extends a lease so the job is not taken over, and refuses to extend an ended claim', async () => {
      const board = await one();
      await board.post(jobSpec('beating'));
      const held = await claimOne(board, 'a', 1000);
      await elapse(800);
      const renewed = await board.extend(held.claim, 1000);
      const stored = await board.get(held.job.id);
      assert.deepEqual(renewed, { ...held.claim, expiresAt: (stored?.updatedAt ?? 0) + 1000 });
      if (serverClock) assert.ok(renewed.expiresAt - held.claim.expiresAt >= 790);
      else assert.equal(renewed.expiresAt, time + 1000);
      // Past the first lease's expiry, not the renewed one's (with real time, by a wide margin).
      await elapse(serverClock ? 300 : 800);
      assert.equal(await board.claim({ owner: 'b', ttlMs: 1000 }), undefined);
      assert.equal((await board.get(held.job.id))?.leaseExpiresAt, renewed.expiresAt);
      await board.consume(renewed, { state: 'REVERTED' });
      await rejectsWith(board.extend(renewed, 1000), 'FENCED', /is now COMPLETE/);
      await rejectsWith(board.extend({ ...renewed, jobId: 'missing' }, 1000), 'JOB_NOT_FOUND');
    });

    it('consumes with an outcome that a waiter sees, once', async () => {
      const [a, b] = await open(2);
      assert.ok(a && b);
      const job = await a.post(jobSpec('charge'));
      const waiting = b.wait(job.id, { timeoutMs: 10_000 });
      const held = await claimOne(a, 'a');
      advance(10);
      const failure = {
        type: 'PaymentError',
        message: 'card declined',
        details: { code: 51, tried: [] },
        retryable: false,
        cause: { type: 'HttpError', message: '402', retryable: true },
      };
      const done = await a.consume(held.claim, { state: 'FAILURE', failure });
      assert.equal(done.state, 'COMPLETE');
      assert.equal(done.leaseExpiresAt, null);
      if (serverClock) assert.ok(done.updatedAt >= held.job.updatedAt);
      else assert.equal(done.updatedAt, time);
      assert.deepEqual(done.outcome, { state: 'FAILURE', failure });
      assert.deepEqual(await waiting, done);
      assert.deepEqual(await b.wait(job.id), done, 'a finished job resolves at once');
      await rejectsWith(a.consume(held.claim, { state: 'SUCCESS' }), 'FENCED');
      assert.equal(await a.claim({ owner: 'b', ttlMs: 1000 }), undefined);
    });

    it('abandons back to UNCLAIMED counting attempts, and to DEAD_LETTER at maxAttempts', async () => {
      const board = await one();
      const job = await board.post(jobSpec('flaky'));
      const first = await claimOne(board, 'a');
      const back = await board.abandon(first.claim, { reason: 'db down', maxAttempts: 2 });
      assert.deepEqual(
        [back.state, back.attempts, back.leaseExpiresAt, back.deadLetterReason],
        ['UNCLAIMED', 1, null, null],
      );
      await rejectsWith(board.abandon(first.claim, { reason: 'again' }), 'FENCED');
      const second = await claimOne(board, 'b');
      assert.equal(second.claim.token, 2);
      const waiting = board.wait(job.id, { timeoutMs: 10_000 });
      const dead = await board.abandon(second.claim, { reason: 'db still down', maxAttempts: 2 });
      assert.deepEqual(
        [dead.state, dead.attempts, dead.deadLetterReason],
        ['DEAD_LETTER', 2, 'db still down'],
      );
      assert.deepEqual(await waiting, dead);
      assert.equal(await board.claim({ owner: 'c', ttlMs: 1000 }), undefined);
      await board.post(jobSpec('unlimited'));
      let claimed = await claimOne(board, 'c');
      for (let i = 0; i < 3; i += 1) {
        await board.abandon(claimed.claim, { reason: 'no limit' });
        claimed = await claimOne(board, 'c');
      }
      assert.equal(claimed.job.attempts, 3);
    });

    it('gives a job back without counting an attempt when asked (an owner stopping on purpose)', async () => {
      const board = await one();
      const job = await board.post(jobSpec('long'));
      const first = await claimOne(board, 'a');
      const back = await board.abandon(first.claim, {
        reason: 'stopping',
        maxAttempts: 1,
        countAttempt: false,
      });
      assert.deepEqual([back.state, back.attempts, back.deadLetterReason], ['UNCLAIMED', 0, null]);
      const again = await claimOne(board, 'b');
      assert.equal(again.job.id, job.id);
      assert.equal(again.claim.token, 2);
    });

    it('trashes jobs that no live claim holds, freeing their idempotency key', async () => {
      const board = await one();
      const idle = await board.post(jobSpec('idle', { idempotencyKey: 'once' }));
      await board.trash(idle.id);
      assert.equal(await board.get(idle.id), undefined);
      await rejectsWith(board.trash(idle.id), 'JOB_NOT_FOUND', /no job with id/);
      const reposted = await board.post(jobSpec('idle', { idempotencyKey: 'once' }));
      assert.notEqual(reposted.id, idle.id);
      const held = await claimOne(board, 'a', SHORT_TTL);
      await rejectsWith(board.trash(reposted.id), 'JOB_CLAIMED', /"a" holds it \(token 1\)/);
      await rejectsWith(board.wait(reposted.id, { timeoutMs: 1 }), 'WAIT_TIMEOUT', /CLAIMED/);
      await outlive(held.claim, SHORT_TTL);
      const waiting = board.wait(reposted.id);
      await board.trash(held.job.id);
      await rejectsWith(waiting, 'JOB_NOT_FOUND');
      await rejectsWith(board.consume(held.claim, { state: 'SUCCESS' }), 'JOB_NOT_FOUND');
    });

    it('redrives a dead-lettered job back to UNCLAIMED with its attempts reset, and only such a job', async () => {
      const board = await one();
      const job = await board.post(jobSpec('flaky'));
      const first = await claimOne(board, 'a');
      const dead = await board.abandon(first.claim, { reason: 'db down', maxAttempts: 1 });
      assert.equal(dead.state, 'DEAD_LETTER');
      const woken = board.claim({ owner: 'b', ttlMs: 10_000, waitMs: 5_000 });
      const redriven = await board.redrive(job.id);
      assert.deepEqual(
        [redriven.state, redriven.attempts, redriven.leaseExpiresAt, redriven.deadLetterReason],
        ['UNCLAIMED', 0, null, null],
      );
      const again = await woken;
      assert.equal(again?.job.id, job.id);
      assert.equal(again?.claim.token, 2, 'the token keeps going up, so old claims stay fenced');
      await rejectsWith(board.consume(first.claim, { state: 'SUCCESS' }), 'FENCED');
      await rejectsWith(board.redrive(job.id), 'INVALID_ARGUMENT', /CLAIMED.*only a DEAD_LETTER/);
      assert.ok(again);
      await board.consume(again.claim, { state: 'SUCCESS' });
      await rejectsWith(board.redrive(job.id), 'INVALID_ARGUMENT', /COMPLETE/);
      await rejectsWith(board.redrive('missing'), 'JOB_NOT_FOUND');
    });

    it('leaves one operator request at a time on a job, for its owner to see, and reopens a complete job with it', async () => {
      const [a, b] = await open(2);
      assert.ok(a && b);
      const seen: JobEvent[] = [];
      const stop = new AbortController();
      await b.subscribe((event) => seen.push(event), { signal: stop.signal });
      const job = await a.post(jobSpec('steered'));
      const held = await claimOne(a, 'a');
      assert.equal(held.claim.request, undefined, 'no request yet');
      const suspend = { id: 'r1', action: 'suspend', by: 'alice', at: T0 } as const;
      const requested = await b.request(job.id, suspend, ['UNCLAIMED', 'CLAIMED']);
      assert.deepEqual([requested.state, requested.request], ['CLAIMED', suspend]);
      await eventually(() => seen.some((e) => e.type === 'requested'));
      assert.deepEqual(
        seen.filter((e) => e.type === 'requested').map((e) => [e.jobId, e.state]),
        [[job.id, 'CLAIMED']],
      );
      const renewed = await a.extend(held.claim, 10_000);
      assert.deepEqual(renewed.request, suspend, 'the owner sees it at its heartbeat');
      await rejectsWith(
        b.request(job.id, { ...suspend, id: 'r2', action: 'cancel' }, ['CLAIMED']),
        'REQUEST_REFUSED',
        /"suspend" asked by "alice" .* is still pending/,
      );
      const done = await a.consume(renewed, { state: 'SUSPENDED' });
      assert.deepEqual(
        [done.state, done.outcome, done.request],
        ['COMPLETE', { state: 'SUSPENDED' }, null],
      );
      const resume = { id: 'r3', action: 'resume', by: 'bob', at: T0 } as const;
      await rejectsWith(
        b.request(job.id, resume, ['UNCLAIMED', 'CLAIMED']),
        'REQUEST_REFUSED',
        /job is COMPLETE, and "resume" needs it UNCLAIMED or CLAIMED/,
      );
      const woken = a.claim({ owner: 'c', ttlMs: 10_000, waitMs: 5_000 });
      const reopened = await b.request(job.id, resume, ['COMPLETE']);
      assert.deepEqual(
        [reopened.state, reopened.outcome, reopened.attempts, reopened.request],
        ['UNCLAIMED', null, 0, resume],
      );
      const again = await woken;
      assert.equal(again?.job.id, job.id, 'a waiting claimer wakes for the reopened job');
      assert.deepEqual(
        again?.claim.request,
        resume,
        'the next owner sees the request at its claim',
      );
      assert.equal(again?.claim.token, held.claim.token + 1, 'older claims stay fenced');
      await rejectsWith(b.request('missing', resume, ['COMPLETE']), 'JOB_NOT_FOUND');
      stop.abort();
    });

    it('prunes finished jobs by age and state in batches, never an unfinished one', async () => {
      const board = await one();
      const finish = async (name: string, dead: boolean): Promise<Job> => {
        const job = await board.post(jobSpec(name));
        const claimed = await claimOne(board, 'a');
        assert.equal(claimed.job.id, job.id);
        const done = dead
          ? await board.abandon(claimed.claim, { reason: 'gone', maxAttempts: 1 })
          : await board.consume(claimed.claim, { state: 'SUCCESS' });
        await elapse(5);
        return done;
      };
      const done1 = await finish('done-1', false);
      const dead1 = await finish('dead-1', true);
      const done2 = await finish('done-2', false);
      const newer = await finish('done-new', false);
      const waiting = await board.post(jobSpec('waiting'));
      const held = await board.post(jobSpec('held', { priority: 5 }));
      assert.equal((await claimOne(board, 'b')).job.id, held.id);
      const before = done2.updatedAt + 1;
      assert.ok(newer.updatedAt >= before);
      const first = await board.prune({ before, limit: 2 });
      assert.deepEqual(first, { deleted: [done1.id, dead1.id], more: true });
      assert.deepEqual(
        await board.prune({ before: Number.MAX_SAFE_INTEGER, states: ['DEAD_LETTER'] }),
        {
          deleted: [],
          more: false,
        },
      );
      const second = await board.prune({ before, states: ['COMPLETE'] });
      assert.deepEqual(second, { deleted: [done2.id], more: false });
      const everything = await board.prune({ before: Number.MAX_SAFE_INTEGER, limit: 1000 });
      assert.deepEqual(everything, { deleted: [newer.id], more: false });
      const left = (await board.list()).items.map((job) => job.id).sort();
      assert.deepEqual(left, [waiting.id, held.id].sort());
      if (!serverClock) {
        await board.trash(waiting.id);
        const old = await finish('old', false);
        await elapse(1000);
        assert.deepEqual(await board.prune({ olderThanMs: 1000 }), {
          deleted: [old.id],
          more: false,
        });
      }
      await rejectsWith(board.prune({}), 'INVALID_ARGUMENT', /olderThanMs/);
      await rejectsWith(
        board.prune({ olderThanMs: 1, states: ['CLAIMED' as 'COMPLETE'] }),
        'INVALID_ARGUMENT',
        /only finished jobs/,
      );
      await rejectsWith(board.prune({ olderThanMs: 1, limit: 5000 }), 'INVALID_ARGUMENT');
    });

    it('lists jobs by state, name and owner, oldest first, in pages', async () => {
      const board = await one();
      const jobs: Job[] = [];
      for (let i = 0; i < 7; i += 1) {
        jobs.push(await board.post(jobSpec(i % 2 === 0 ? 'even' : 'odd')));
        if (i !== 3) advance(1); // two jobs share a createdAt: the id breaks the tie
      }
      await claimOne(board, 'alice');
      const ids = (page: { items: readonly Job[] }): string[] => page.items.map((j) => j.id);
      const seen: string[] = [];
      let page = await board.list({ limit: 3 });
      for (;;) {
        assert.ok(page.items.length <= 3);
        seen.push(...ids(page));
        if (page.next === undefined) break;
        page = await board.list({ limit: 3, after: page.next });
      }
      const expected = [...jobs]
        .sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1))
        .map((j) => j.id);
      assert.deepEqual(seen, expected);
      assert.deepEqual(
        ids(await board.list({ name: 'odd' })),
        expected.filter((id) => jobs.find((j) => j.id === id)?.name === 'odd'),
      );
      assert.deepEqual(ids(await board.list({ owner: 'alice' })), [jobs[0]?.id]);
      assert.deepEqual(ids(await board.list({ states: ['CLAIMED'] })), [jobs[0]?.id]);
      assert.equal((await board.list({ states: ['UNCLAIMED', 'COMPLETE'] })).items.length, 6);
      assert.equal((await board.list({ states: [] })).items.length, 0);
      await rejectsWith(board.list({ after: 'nonsense' }), 'INVALID_ARGUMENT', /cursor/);
      await rejectsWith(board.list({ limit: 0 }), 'INVALID_ARGUMENT', /limit/);
    });

    it('lists live conductors with their last-seen time until they expire or leave', async () => {
      const [a, b] = await open(2);
      assert.ok(a && b);
      const ttlMs = serverClock ? 2000 : 1000;
      await a.heartbeatConductor({ name: 'c1', ttlMs, meta: { host: 'h1', slots: 4 } });
      await elapse(ttlMs / 2);
      await b.heartbeatConductor({ name: 'c2', ttlMs });
      const both = await a.listConductors();
      const [c1, c2] = both;
      assert.ok(c1 && c2);
      assert.deepEqual(both, [
        {
          name: 'c1',
          lastSeenAt: c1.lastSeenAt,
          expiresAt: c1.lastSeenAt + ttlMs,
          meta: { host: 'h1', slots: 4 },
        },
        { name: 'c2', lastSeenAt: c2.lastSeenAt, expiresAt: c2.lastSeenAt + ttlMs, meta: {} },
      ]);
      if (serverClock) assert.ok(c2.lastSeenAt - c1.lastSeenAt >= ttlMs / 2 - 10);
      else assert.deepEqual([c1.lastSeenAt, c2.lastSeenAt], [time - ttlMs / 2, time]);
      await elapse(ttlMs / 2 + (serverClock ? 300 : 0));
      assert.deepEqual(
        (await b.listConductors()).map((c) => c.name),
        ['c2'],
      );
      await a.heartbeatConductor({ name: 'c1', ttlMs });
      await b.unregisterConductor('c2');
      const [again, ...others] = await b.listConductors();
      assert.deepEqual([again?.name, others], ['c1', []]);
      if (serverClock) assert.ok((again?.lastSeenAt ?? 0) >= c1.lastSeenAt + ttlMs);
      else assert.equal(again?.lastSeenAt, time);
    });

    it('notifies subscribers of every board about posts, claims, completions and abandons', async () => {
      const [a, b] = await open(2);
      assert.ok(a && b);
      const seen: JobEvent[] = [];
      const stop = new AbortController();
      await b.subscribe((event) => seen.push(event), { signal: stop.signal });
      await b.subscribe(
        () => {
          throw new Error('a broken listener is ignored');
        },
        { signal: stop.signal },
      );
      const job = await a.post(jobSpec('watched'));
      const first = await claimOne(a, 'a');
      await a.abandon(first.claim, { reason: 'retry' });
      const second = await claimOne(a, 'a');
      await a.consume(second.claim, { state: 'SUCCESS' });
      await eventually(() => seen.length >= 5);
      assert.deepEqual(
        seen.map((e) => [e.type, e.jobId, e.jobName, e.state]),
        [
          ['posted', job.id, 'watched', 'UNCLAIMED'],
          ['claimed', job.id, 'watched', 'CLAIMED'],
          ['abandoned', job.id, 'watched', 'UNCLAIMED'],
          ['claimed', job.id, 'watched', 'CLAIMED'],
          ['completed', job.id, 'watched', 'COMPLETE'],
        ],
      );
      stop.abort();
      await a.post(jobSpec('unwatched'));
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal(seen.length, 5);
    });

    it('wakes a waiting claimer when a job is posted elsewhere, and stops on abort', async () => {
      const [a, b] = await open(2);
      assert.ok(a && b);
      const waiting = b.claim({ owner: 'idle', ttlMs: 1000, waitMs: 8000 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const job = await a.post(jobSpec('wake'));
      const claimed = await waiting;
      assert.equal(claimed?.job.id, job.id);
      const stop = new AbortController();
      const stopped = b.claim({ owner: 'idle', ttlMs: 1000, waitMs: 60_000, signal: stop.signal });
      setTimeout(() => stop.abort(), 20);
      assert.equal(await stopped, undefined);
    });

    it('times out or aborts a wait, and refuses to wait for a job that does not exist', async () => {
      const board = await one();
      const job = await board.post(jobSpec('slow'));
      await rejectsWith(board.wait(job.id, { timeoutMs: 30 }), 'WAIT_TIMEOUT', /still UNCLAIMED/);
      const stop = new AbortController();
      const waiting = board.wait(job.id, { signal: stop.signal });
      stop.abort(new Error('shutting down'));
      await assert.rejects(waiting, /shutting down/);
      await rejectsWith(board.wait('missing'), 'JOB_NOT_FOUND');
    });

    it('refuses values that JSON cannot hold, and malformed arguments, changing nothing', async () => {
      const board = await one();
      await rejectsWith(
        board.post(jobSpec('bad', { store: { when: new Date() } as never })),
        'NOT_SERIALIZABLE',
        /store\.when is a Date/,
      );
      await rejectsWith(board.post(jobSpec('', {})), 'INVALID_ARGUMENT', /job name/);
      await rejectsWith(
        board.post(jobSpec('p', { priority: 1.5 })),
        'INVALID_ARGUMENT',
        /priority/,
      );
      await rejectsWith(board.claim({ owner: 'o', ttlMs: 0 }), 'INVALID_ARGUMENT', /ttlMs/);
      assert.equal((await board.list()).items.length, 0);
      await board.post(jobSpec('ok'));
      const held = await claimOne(board, 'o');
      await rejectsWith(
        board.consume(held.claim, { state: 'DONE' as never }),
        'INVALID_ARGUMENT',
        /SUCCESS, REVERTED, FAILURE/,
      );
      await rejectsWith(
        board.abandon(held.claim, { reason: 'x', maxAttempts: 0 }),
        'INVALID_ARGUMENT',
        /maxAttempts/,
      );
      assert.equal((await board.get(held.job.id))?.state, 'CLAIMED');
    });

    it('refuses use after close, and closes twice without error', async () => {
      const board = await one();
      await board.close();
      await board.close();
      await rejectsWith(board.post(jobSpec('late')), 'BOARD_CLOSED', /openJobBoard/);
    });
  });
}
