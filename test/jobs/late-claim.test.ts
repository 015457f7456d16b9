import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardJobBoard } from '../../src/jobs/guarded-job-board.ts';
import {
  MemoryJobBoardBackend,
  MemoryJobBoardState,
} from '../../src/jobs/memory/memory-job-board.ts';
import type { Job } from '../../src/jobs/model.ts';
import { jobSpec } from '../../src/testing/jobboard-contract.ts';

// A server can grant a claim and then stall before its reply leaves (a paused Redis, a GC
// pause, a congested link). When the reply arrives a whole TTL later, the lease may already
// have expired and another claimer may hold the job: such a claim must not be handed to the
// caller as if it were fresh.

const TTL_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A memory backend whose next claims reply `stallMs` after they were granted. */
class StallingBackend extends MemoryJobBoardBackend {
  stallMs = 0;
  /** Runs while a stalled reply is held back, after the claim was granted. */
  duringStall: () => Promise<void> = async () => {};

  override async claim(request: {
    owner: string;
    ttlMs: number;
    now: number;
  }): Promise<Job | undefined> {
    const job = await super.claim(request);
    if (job !== undefined && this.stallMs > 0) {
      const stall = sleep(this.stallMs);
      await this.duringStall();
      await stall;
    }
    return job;
  }
}

const boards = () => {
  const state = new MemoryJobBoardState();
  const stalling = new StallingBackend(state);
  return {
    stalling,
    late: guardJobBoard(stalling),
    other: guardJobBoard(new MemoryJobBoardBackend(state)),
  };
};

describe('a claim whose reply comes back later than its TTL', () => {
  it('is no claim when another claimer took the expired job over meanwhile', async () => {
    const { stalling, late, other } = boards();
    await late.post(jobSpec('contested'));
    stalling.stallMs = TTL_MS * 2;
    let taken: Awaited<ReturnType<typeof other.claim>>;
    stalling.duringStall = async () => {
      await sleep(TTL_MS + 20);
      taken = await other.claim({ owner: 'other', ttlMs: 60_000 });
    };

    const claimed = await late.claim({ owner: 'late', ttlMs: TTL_MS });

    assert.equal(claimed, undefined, 'the late claim is not returned');
    assert.equal(taken?.claim.owner, 'other');
    const job = await other.get(taken.claim.jobId);
    assert.equal(job?.owner, 'other', 'the job stays with the claimer that took it over');
    assert.equal(job?.token, taken.claim.token);
  });

  it('is renewed before it is returned when nobody took the job over', async () => {
    const { stalling, late } = boards();
    await late.post(jobSpec('uncontested'));
    stalling.stallMs = TTL_MS * 2;

    const claimed = await late.claim({ owner: 'late', ttlMs: TTL_MS });
    const arrivedAt = Date.now();

    assert.ok(claimed, 'the job is claimed');
    assert.equal(claimed.claim.owner, 'late');
    assert.ok(
      claimed.claim.expiresAt > arrivedAt,
      `the claim expires ${claimed.claim.expiresAt - arrivedAt} ms after it arrived`,
    );
    const renewed = await late.extend(claimed.claim, TTL_MS);
    assert.equal(renewed.token, claimed.claim.token, 'the returned claim is the current one');
  });

  it('is returned as granted when it comes back within its TTL', async () => {
    const { stalling, late } = boards();
    const job = await late.post(jobSpec('prompt'));
    stalling.stallMs = TTL_MS / 4;

    const claimed = await late.claim({ owner: 'late', ttlMs: TTL_MS });

    assert.equal(claimed?.job.id, job.id);
    assert.equal(claimed?.claim.token, 1);
  });
});
