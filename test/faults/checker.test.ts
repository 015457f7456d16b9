import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  analyzeCampaign,
  type CheckId,
  checkCampaign,
  type FinalJob,
  type LogLine,
  parseLog,
  percentile,
  takeovers,
  type Violation,
} from './checker.ts';

// The checker's self-test: a clean log (with a kill, a takeover that re-runs the atom in
// flight, a zombie whose late end is fenced, a retry and a revert) passes, and a log broken on
// purpose for each check is caught by that check.

const TTL = 600;

/** A log line as written, before it gets its place in the file (and maybe its time). */
type Draft = LogLine extends infer L
  ? L extends LogLine
    ? Omit<L, 'seq' | 'at'> & { at?: number }
    : never
  : never;

/** Writes a log line by line, as the conductor processes and the campaign would. */
class Log {
  readonly lines: LogLine[] = [];
  now = 1_000_000;

  #add(line: Draft): this {
    const at = line.at ?? this.now;
    this.lines.push({ ...line, at, seq: this.lines.length } as LogLine);
    return this;
  }

  wait(ms: number): this {
    this.now += ms;
    return this;
  }

  claim(c: string, pid: number, job: string, token: number, label = labelOf(job)): this {
    this.now += 1;
    return this.#add({
      kind: 'board',
      op: 'claim',
      ok: true,
      sentAt: this.now - 1,
      job,
      label,
      token,
      expiresAt: this.now - 1 + TTL,
      conductor: c,
      pid,
    });
  }

  extend(c: string, pid: number, job: string, token: number, ok = true): this {
    this.now += 1;
    return this.#add({
      kind: 'board',
      op: 'extend',
      ok,
      sentAt: this.now - 1,
      job,
      token,
      ...(ok ? { expiresAt: this.now - 1 + TTL } : { code: 'FENCED' }),
      conductor: c,
      pid,
    });
  }

  task(
    c: string,
    pid: number,
    job: string,
    atom: string,
    phase: 'execute' | 'revert',
    edge: 'start' | 'end',
    token: number | null,
    extra: { ok?: boolean; validUntil?: number | null; checkedAt?: number; ioAt?: number } = {},
  ): this {
    this.now += 5;
    return this.#add({
      ...(extra.checkedAt === undefined ? {} : { checkedAt: extra.checkedAt }),
      ...(extra.ioAt === undefined ? {} : { ioAt: extra.ioAt }),
      kind: 'task',
      label: labelOf(job),
      atom,
      phase,
      edge,
      token,
      validUntil:
        extra.validUntil === undefined
          ? token === null
            ? null
            : this.now + 300
          : extra.validUntil,
      ...(edge === 'end' ? { ok: extra.ok ?? true } : {}),
      conductor: c,
      pid,
    });
  }

  /** Execute start and end of each atom in turn. */
  run(c: string, pid: number, job: string, token: number, atoms: readonly string[]): this {
    for (const atom of atoms) {
      this.task(c, pid, job, atom, 'execute', 'start', token);
      this.task(c, pid, job, atom, 'execute', 'end', token);
    }
    return this;
  }

  /** Revert start and end of each atom in turn. */
  revert(c: string, pid: number, job: string, token: number, atoms: readonly string[]): this {
    for (const atom of atoms) {
      this.task(c, pid, job, atom, 'revert', 'start', token);
      this.task(c, pid, job, atom, 'revert', 'end', token);
    }
    return this;
  }

  consume(c: string, pid: number, job: string, token: number, outcome = 'SUCCESS'): this {
    this.now += 1;
    return this.#add({
      kind: 'board',
      op: 'consume',
      ok: true,
      sentAt: this.now - 1,
      job,
      token,
      outcome,
      state: 'COMPLETE',
      conductor: c,
      pid,
    });
  }

  abandon(c: string, pid: number, job: string, token: number, countAttempt: boolean): this {
    this.now += 1;
    return this.#add({
      kind: 'board',
      op: 'abandon',
      ok: true,
      sentAt: this.now - 1,
      job,
      token,
      reason: 'StorageError: the store is unavailable',
      countAttempt,
      state: 'UNCLAIMED',
      conductor: c,
      pid,
    });
  }

  event(c: string, pid: number, type: 'lost' | 'abandoned', job: string): this {
    return this.#add({ kind: 'event', type, job, conductor: c, pid });
  }

  fault(type: 'kill' | 'stop' | 'cont', c: string, pid: number): this {
    return this.#add({ kind: 'fault', type, conductor: c, pid });
  }
}

const labelOf = (job: string) => `label-${job}`;

function final(
  id: string,
  overrides: Partial<FinalJob> & { expected?: 'SUCCESS' | 'REVERTED' } = {},
): FinalJob {
  const expected = overrides.expected ?? 'SUCCESS';
  return {
    id,
    label: labelOf(id),
    flow: expected === 'SUCCESS' ? 'linear' : 'doomed',
    expected,
    state: 'COMPLETE',
    outcome: expected,
    owner: 'c1',
    token: 1,
    attempts: 0,
    updatedAt: 0,
    deadLetterReason: null,
    runState: expected,
    ...overrides,
  };
}

/** A clean log of three jobs: a plain run, a takeover after a kill, a zombie and a revert. */
function clean(): { log: Log; jobs: FinalJob[] } {
  const log = new Log();
  // J1: one owner, three atoms.
  log
    .claim('c1', 11, 'J1', 1)
    .run('c1', 11, 'J1', 1, ['t0', 't1', 't2'])
    .consume('c1', 11, 'J1', 1);
  // J2: c1 runs t0, starts t1 and is killed; c2 takes over and re-runs t1 (in flight).
  log
    .claim('c1', 11, 'J2', 1)
    .run('c1', 11, 'J2', 1, ['t0'])
    .task('c1', 11, 'J2', 't1', 'execute', 'start', 1)
    .fault('kill', 'c1', 11)
    .wait(TTL)
    .claim('c2', 22, 'J2', 2)
    .run('c2', 22, 'J2', 2, ['t1', 't2'])
    .consume('c2', 22, 'J2', 2);
  // J3: a retried flow: t1 fails, is reverted, runs again; c3 is a zombie during t2, whose
  // late end (token 1) is fenced; c2 re-runs t2 and the job fails and reverts.
  log
    .claim('c3', 33, 'J3', 1)
    .run('c3', 33, 'J3', 1, ['t0'])
    .task('c3', 33, 'J3', 't1', 'execute', 'start', 1)
    .task('c3', 33, 'J3', 't1', 'execute', 'end', 1, { ok: false })
    .revert('c3', 33, 'J3', 1, ['t1'])
    .run('c3', 33, 'J3', 1, ['t1'])
    .extend('c3', 33, 'J3', 1)
    .task('c3', 33, 'J3', 't2', 'execute', 'start', 1)
    .fault('stop', 'c3', 33)
    .wait(TTL + 200)
    .claim('c2', 22, 'J3', 2)
    .task('c2', 22, 'J3', 't2', 'execute', 'start', 2)
    .fault('cont', 'c3', 33)
    .task('c3', 33, 'J3', 't2', 'execute', 'end', 1)
    .extend('c3', 33, 'J3', 1, false)
    .event('c3', 33, 'lost', 'J3')
    .task('c2', 22, 'J3', 't2', 'execute', 'end', 2, { ok: false })
    .revert('c2', 22, 'J3', 2, ['t2', 't1', 't0'])
    .consume('c2', 22, 'J3', 2, 'REVERTED');
  return {
    log,
    jobs: [
      final('J1'),
      final('J2', { token: 2 }),
      final('J3', { expected: 'REVERTED', token: 2, attempts: 1 }),
    ],
  };
}

function only(violations: readonly Violation[], check: CheckId): Violation[] {
  assert.ok(violations.length > 0, `check (${check}) caught nothing`);
  const others = violations.filter((v) => v.check !== check);
  assert.deepEqual(others, [], `only check (${check}) should fire`);
  return [...violations];
}

const check = (log: Log, jobs: readonly FinalJob[]) => checkCampaign({ lines: log.lines, jobs });

describe('fault campaign checker', () => {
  test('a clean log with a kill, a takeover, a fenced zombie, a retry and a revert passes', () => {
    const { log, jobs } = clean();
    assert.deepEqual(check(log, jobs), []);
  });

  test('parseLog numbers lines in file order and counts a line cut short by a kill', () => {
    const { lines, malformed } = parseLog(
      '{"kind":"fault","type":"kill","at":5,"conductor":"c1","pid":1}\n{"kind":"ta\n\n',
    );
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.seq, 0);
    assert.equal(malformed, 1);
  });

  describe('(a) no task code started under an expired or superseded claim', () => {
    test('a zombie starts the next atom after another conductor was granted a bigger token', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0'])
        .fault('stop', 'c1', 11)
        .wait(TTL + 100)
        .claim('c2', 22, 'J', 2)
        .fault('cont', 'c1', 11)
        .task('c1', 11, 'J', 't1', 'execute', 'start', 1)
        .run('c2', 22, 'J', 2, ['t1', 't2'])
        .consume('c2', 22, 'J', 2);
      const found = only(check(log, [final('J', { token: 2 })]), 'a');
      assert.match(
        found[0]?.message ?? '',
        /t1 by c1\(pid 11\) token 1 .*c2\(pid 22\) was granted token 2/,
      );
    });

    test('a task starts after the deadline its own lease fence named', () => {
      const log = new Log().claim('c1', 11, 'J', 1).run('c1', 11, 'J', 1, ['t0']);
      log.task('c1', 11, 'J', 't1', 'execute', 'start', 1, { validUntil: log.now });
      log.task('c1', 11, 'J', 't1', 'execute', 'end', 1).consume('c1', 11, 'J', 1);
      const found = only(check(log, [final('J')]), 'a');
      assert.match(found[0]?.message ?? '', /after the lease it saw was valid until/);
    });

    test('a task starts after the board said the claim expired, with no renewal', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .wait(TTL + 50)
        .task('c1', 11, 'J', 't0', 'execute', 'start', 1, { validUntil: null })
        .task('c1', 11, 'J', 't0', 'execute', 'end', 1)
        .consume('c1', 11, 'J', 1);
      const found = only(check(log, [final('J')]), 'a');
      assert.match(found[0]?.message ?? '', /board's last answer for token 1/);
    });

    test('the board grants a claim while the previous one is still valid', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0'])
        .claim('c2', 22, 'J', 2)
        .run('c2', 22, 'J', 2, ['t1', 't2'])
        .consume('c2', 22, 'J', 2);
      const found = only(check(log, [final('J', { token: 2 })]), 'a');
      assert.equal(found.length, 1);
      assert.match(
        found[0]?.message ?? '',
        /c2\(pid 22\) was granted token 2 .* while the claim of c1\(pid 11\) token 1 was valid until/,
      );
    });

    test("a zombie paused between the engine's lease check and the task is a note; paused before the check, a violation", () => {
      const build = (checkedLate: boolean, replyLate = false) => {
        const log = new Log().claim('c1', 11, 'J', 1).run('c1', 11, 'J', 1, ['t0']);
        const checkedAt = log.now;
        const validUntil = log.now + 300;
        log
          .fault('stop', 'c1', 11)
          .wait(TTL + 100)
          .claim('c2', 22, 'J', 2)
          .run('c2', 22, 'J', 2, ['t1', 't2'])
          .consume('c2', 22, 'J', 2)
          .fault('cont', 'c1', 11);
        log.task('c1', 11, 'J', 't1', 'execute', 'start', 1, {
          validUntil,
          checkedAt: checkedLate ? log.now : checkedAt,
          ioAt: replyLate ? log.now : checkedAt - 1,
        });
        return analyzeCampaign({ lines: log.lines, jobs: [final('J', { token: 2 })] });
      };
      const early = build(false);
      assert.deepEqual(early.violations, []);
      assert.equal(early.notes.length, 2, early.notes.join('\n'));
      assert.match(
        early.notes[0] ?? '',
        /superseded claim.*expired claim.*the claim was good then/,
      );
      const late = build(true);
      assert.deepEqual(
        late.violations.map((v) => v.check),
        ['a', 'b'],
      );
      assert.match(late.violations[0]?.message ?? '', /superseded claim/);
      // It read the clock before the pause but a reply reached it after: it was awaiting that
      // reply when stopped, and started the task without checking again.
      const unchecked = build(false, true);
      assert.deepEqual(
        unchecked.violations.map((v) => v.check),
        ['a', 'b'],
      );
    });

    test('tasks that see no lease fence are reported once', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', null as unknown as number, ['t0', 't1'])
        .consume('c1', 11, 'J', 1);
      const found = only(check(log, [final('J')]), 'a');
      assert.equal(found.length, 1);
      assert.match(found[0]?.message ?? '', /2 task starts saw no lease fence/);
    });
  });

  describe('(b) no task started after its job was terminal', () => {
    test('a zombie starts a task after another conductor completed the job', () => {
      const { log, jobs } = clean();
      // After J2 was consumed, its owner starts t2 once more.
      log.task('c2', 22, 'J2', 't2', 'execute', 'start', 2);
      const found = check(log, jobs).filter((v) => v.check === 'b');
      assert.equal(found.length, 1);
      assert.match(
        found[0]?.message ?? '',
        /J2: execute start of t2 .* after the job was completed SUCCESS by c2/,
      );
    });

    test('a job completed twice', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0'])
        .consume('c1', 11, 'J', 1)
        .consume('c1', 11, 'J', 1);
      const found = only(check(log, [final('J')]), 'b');
      assert.match(found[0]?.message ?? '', /completed twice/);
    });
  });

  describe('(c) run store and board agree at the end', () => {
    test('board SUCCESS but the run REVERTED; a stuck job; a run left RUNNING; not as designed', () => {
      const log = new Log();
      const jobs = [
        final('A', { runState: 'REVERTED' }),
        final('B', { state: 'CLAIMED', outcome: null, runState: 'RUNNING' }),
        final('C', { expected: 'REVERTED', runState: 'SUSPENDING' }),
        final('D', { expected: 'REVERTED', outcome: 'SUCCESS', runState: 'SUCCESS' }),
        final('E', { state: 'MISSING', outcome: null, runState: null }),
      ];
      const found = only(check(log, jobs), 'c');
      assert.deepEqual(
        found.map((v) => v.job),
        ['A', 'B', 'C', 'D', 'E'],
      );
      assert.match(found[0]?.message ?? '', /board COMPLETE SUCCESS .* but run REVERTED/);
      assert.match(found[1]?.message ?? '', /stuck/);
      assert.match(found[2]?.message ?? '', /run SUSPENDING is left unfinished/);
      assert.match(found[3]?.message ?? '', /not as designed/);
      assert.match(found[4]?.message ?? '', /not on the board/);
    });
  });

  describe('(d) reverts after executes, in reverse completion order, nothing left undone', () => {
    test('a revert before its execute ended', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0'])
        .task('c1', 11, 'J', 't1', 'execute', 'start', 1)
        .revert('c1', 11, 'J', 1, ['t1', 't0'])
        .consume('c1', 11, 'J', 1, 'REVERTED');
      const found = only(check(log, [final('J', { expected: 'REVERTED' })]), 'd');
      assert.match(
        found[0]?.message ?? '',
        /revert start of t1 .* before any execute of t1 had ended/,
      );
    });

    test('reverts in completion order instead of reverse', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0', 't1'])
        .revert('c1', 11, 'J', 1, ['t0', 't1'])
        .consume('c1', 11, 'J', 1, 'REVERTED');
      const found = only(check(log, [final('J', { expected: 'REVERTED' })]), 'd');
      assert.match(
        found[0]?.message ?? '',
        /revert start of t0 .* while t1, which completed later/,
      );
    });

    test('a REVERTED job with an effect never reverted', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0'])
        .task('c1', 11, 'J', 't1', 'execute', 'start', 1)
        .task('c1', 11, 'J', 't1', 'execute', 'end', 1, { ok: false })
        .revert('c1', 11, 'J', 1, ['t1'])
        .consume('c1', 11, 'J', 1, 'REVERTED');
      const found = only(check(log, [final('J', { expected: 'REVERTED' })]), 'd');
      assert.match(
        found[0]?.message ?? '',
        /effect of t0 .* never reverted although the job ended REVERTED/,
      );
    });

    test('a late end of a stale owner is fenced and needs no revert (the clean log has one)', () => {
      const { log, jobs } = clean();
      const late = log.lines.find(
        (line) =>
          line.kind === 'task' &&
          line.conductor === 'c3' &&
          line.atom === 't2' &&
          line.edge === 'end',
      );
      assert.ok(late, 'the clean log has the zombie c3 end t2 after c2 took J3 over');
      assert.deepEqual(check(log, jobs), []);
    });

    test("a stale owner's late end does not reorder the current owner's completions", () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .task('c1', 11, 'J', 't0', 'execute', 'start', 1)
        .fault('stop', 'c1', 11)
        .wait(TTL + 100)
        .claim('c2', 22, 'J', 2)
        .run('c2', 22, 'J', 2, ['t0', 't1'])
        .fault('cont', 'c1', 11)
        .task('c1', 11, 'J', 't0', 'execute', 'end', 1)
        .revert('c2', 22, 'J', 2, ['t1', 't0'])
        .consume('c2', 22, 'J', 2, 'REVERTED');
      assert.deepEqual(check(log, [final('J', { expected: 'REVERTED', token: 2 })]), []);
    });

    test("a stale owner's late revert end the run kept: the next owner goes on from it", () => {
      // c1 is paused mid-revert of t2; c2 claims and is killed before touching the run; c1
      // wakes, its revert of t2 ends (the store took it: no newer owner had fenced the run);
      // c3 goes on reverting t1, then the retry runs t1 and t2 again.
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0', 't1'])
        .task('c1', 11, 'J', 't2', 'execute', 'start', 1)
        .task('c1', 11, 'J', 't2', 'execute', 'end', 1, { ok: false })
        .task('c1', 11, 'J', 't2', 'revert', 'start', 1)
        .fault('stop', 'c1', 11)
        .wait(TTL + 100)
        .claim('c2', 22, 'J', 2)
        .fault('kill', 'c2', 22)
        .fault('cont', 'c1', 11)
        .task('c1', 11, 'J', 't2', 'revert', 'end', 1)
        .extend('c1', 11, 'J', 1, false)
        .event('c1', 11, 'lost', 'J')
        .wait(TTL)
        .claim('c3', 33, 'J', 3)
        .revert('c3', 33, 'J', 3, ['t1'])
        .run('c3', 33, 'J', 3, ['t1', 't2', 't3'])
        .consume('c3', 33, 'J', 3);
      assert.deepEqual(check(log, [final('J', { token: 3 })]), []);
    });

    test('a stale end after the new owner re-ran and reverted the atom does not block its retry', () => {
      // c3 is paused in t3; c1 takes over, t3 fails and is reverted; c3's late end of t3
      // arrives; c1 is paused in turn; c3 (token 3) retries the flow and runs t3 again.
      const log = new Log()
        .claim('c3', 33, 'J', 1)
        .run('c3', 33, 'J', 1, ['t0'])
        .task('c3', 33, 'J', 't1', 'execute', 'start', 1)
        .fault('stop', 'c3', 33)
        .wait(TTL + 100)
        .claim('c1', 11, 'J', 2)
        .task('c1', 11, 'J', 't1', 'execute', 'start', 2)
        .task('c1', 11, 'J', 't1', 'execute', 'end', 2, { ok: false })
        .task('c1', 11, 'J', 't1', 'revert', 'start', 2)
        .task('c1', 11, 'J', 't1', 'revert', 'end', 2)
        .fault('cont', 'c3', 33)
        .task('c3', 33, 'J', 't1', 'execute', 'end', 1, { ok: false })
        .event('c3', 33, 'lost', 'J')
        .revert('c1', 11, 'J', 2, ['t0'])
        .fault('stop', 'c1', 11)
        .wait(TTL + 100)
        .claim('c3', 33, 'J', 3)
        .run('c3', 33, 'J', 3, ['t0'])
        .task('c3', 33, 'J', 't1', 'execute', 'start', 3)
        .task('c3', 33, 'J', 't1', 'execute', 'end', 3, { ok: false })
        .revert('c3', 33, 'J', 3, ['t1', 't0'])
        .consume('c3', 33, 'J', 3, 'REVERTED');
      assert.deepEqual(check(log, [final('J', { expected: 'REVERTED', token: 3 })]), []);
    });

    test('a SUCCESS job whose atom was reverted last', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0', 't1'])
        .revert('c1', 11, 'J', 1, ['t1'])
        .consume('c1', 11, 'J', 1);
      const found = only(check(log, [final('J')]), 'd');
      assert.match(
        found[0]?.message ?? '',
        /t1 was last reverted .* although the job ended SUCCESS/,
      );
    });
  });

  describe('(e) re-executions only of atoms in flight when their owner was killed or stopped', () => {
    test('an atom that completed, followed by a later atom, runs again after a takeover', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0'])
        .task('c1', 11, 'J', 't1', 'execute', 'start', 1)
        .fault('kill', 'c1', 11)
        .wait(TTL)
        .claim('c2', 22, 'J', 2)
        .run('c2', 22, 'J', 2, ['t0', 't1', 't2'])
        .consume('c2', 22, 'J', 2);
      const found = only(check(log, [final('J', { token: 2 })]), 'e');
      assert.equal(found.length, 1);
      assert.match(
        found[0]?.message ?? '',
        /execute start of t0 by c2\(pid 22\) token 2 .* ran again although it had completed \(c1\(pid 11\) token 1 .*\) and execute of t1 started after it/,
      );
    });

    test('an atom runs again although its owner was neither killed nor stopped', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0'])
        .task('c1', 11, 'J', 't1', 'execute', 'start', 1)
        .task('c1', 11, 'J', 't1', 'execute', 'start', 1)
        .task('c1', 11, 'J', 't1', 'execute', 'end', 1)
        .consume('c1', 11, 'J', 1);
      const found = only(check(log, [final('J')]), 'e');
      assert.match(found[0]?.message ?? '', /neither killed nor stopped nor lost the claim/);
    });

    test('a revert that completed runs again after a later revert started', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .run('c1', 11, 'J', 1, ['t0', 't1'])
        .revert('c1', 11, 'J', 1, ['t1'])
        .task('c1', 11, 'J', 't0', 'revert', 'start', 1)
        .fault('kill', 'c1', 11)
        .wait(TTL)
        .claim('c2', 22, 'J', 2)
        .revert('c2', 22, 'J', 2, ['t1', 't0'])
        .consume('c2', 22, 'J', 2, 'REVERTED');
      const found = check(log, [final('J', { expected: 'REVERTED', token: 2 })]);
      const mine = found.filter((v) => v.check === 'e');
      assert.equal(mine.length, 1, JSON.stringify(found));
      assert.match(
        mine[0]?.message ?? '',
        /revert start of t1 by c2.* ran again although it had completed/,
      );
    });
  });

  describe('(f) no dead letter and no counted attempt caused by infrastructure', () => {
    test('a dead-lettered job and an abandon that counted an attempt', () => {
      const log = new Log()
        .claim('c1', 11, 'J', 1)
        .abandon('c1', 11, 'J', 1, true)
        .claim('c1', 11, 'J', 2)
        .abandon('c1', 11, 'J', 2, false)
        .claim('c2', 22, 'J', 3)
        .run('c2', 22, 'J', 3, ['t0'])
        .consume('c2', 22, 'J', 3);
      const jobs = [
        final('J', { token: 3 }),
        final('K', {
          state: 'DEAD_LETTER',
          outcome: null,
          runState: null,
          attempts: 5,
          deadLetterReason: 'StorageError: unavailable',
        }),
      ];
      const found = only(check(log, jobs), 'f');
      assert.equal(found.length, 2);
      assert.match(found[0]?.message ?? '', /K .*dead-lettered after 5 attempts: StorageError/);
      assert.match(
        found[1]?.message ?? '',
        /J: abandoned by c1\(pid 11\) token 1 .* counting an attempt/,
      );
    });
  });

  test('takeovers: from a kill to the next claim of each job the victim held', () => {
    const { log } = clean();
    const { takeovers: found, neverTaken } = takeovers(log.lines);
    assert.equal(neverTaken, 0);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.job, 'J2');
    assert.equal(found[0]?.victim, 'c1');
    assert.equal(found[0]?.by, 'c2');
    assert.ok((found[0]?.ms ?? 0) >= TTL);
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(percentile([5, 1, 3, 2, 4], 99), 5);
  });
});
