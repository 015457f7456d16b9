/**
 * The comparator of the differential test must be able to fail: an outcome altered on purpose
 * is reported, and the allowed TaskFlow defects are recognised only where they apply.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compareOutcome,
  enclosingRetries,
  firstGhostRevert,
  staleFailures,
  successorsOf,
} from './compare.ts';
import { loadRecording } from './recording.ts';
import type { CaseSpec, Outcome } from './spec.ts';

/** linear f1 (retry r1 Times(2)) [t1, t2 fails on #1, t3]. */
const spec: CaseSpec = {
  id: 'hand-made',
  seed: 0,
  store: {},
  flow: {
    kind: 'flow',
    type: 'linear',
    name: 'f1',
    retry: { name: 'r1', type: 'times', priority: 4, attempts: 2, provides: 'v_r1' },
    children: [
      { kind: 'task', name: 't1', priority: 3, requires: [], failOn: [], revertFailOn: [] },
      { kind: 'task', name: 't2', priority: 2, requires: [], failOn: [1], revertFailOn: [] },
      { kind: 'task', name: 't3', priority: 1, requires: [], failOn: [], revertFailOn: [] },
    ],
  },
};

const success: Outcome = {
  calls: [
    'execute r1',
    'execute t1',
    'execute t2',
    'revert t2',
    'revert t1',
    'execute r1',
    'execute t1',
    'execute t2',
    'execute t3',
  ],
  decisions: [{ retry: 'r1', decision: 'RETRY', history: [[1, ['t2']]] }],
  flowState: 'SUCCESS',
  atoms: { r1: 'SUCCESS', t1: 'SUCCESS', t2: 'SUCCESS', t3: 'SUCCESS' },
  results: { r1: 2, t1: 't1()', t2: 't2()', t3: 't3()' },
  histories: {
    r1: [
      [1, ['t2']],
      [2, []],
    ],
  },
  raised: null,
};

const fields = (ours: Outcome, taskflow: Outcome = success) =>
  compareOutcome(spec, ours, [taskflow]).diffs.map((d) => d.field);

describe('the differential comparator', () => {
  test('an outcome agrees with itself', () => {
    const verdict = compareOutcome(spec, success, [success]);
    assert.equal(verdict.agree, true);
    assert.deepEqual(verdict.allowed, []);
  });

  test('a recorded TaskFlow outcome agrees with itself unless it shows one of its defects', () => {
    for (const { spec: s, taskflow } of loadRecording().cases) {
      for (const outcome of [...taskflow.subflow, ...taskflow.enclosing]) {
        const verdict = compareOutcome(s, outcome, [outcome]);
        // What we allow TaskFlow to do (ghost reverts, stale failures) we do not allow ours.
        const ghost = firstGhostRevert(outcome.calls, successorsOf(s.flow));
        const stale =
          outcome.raised &&
          staleFailures(outcome.raised, outcome.calls, enclosingRetries(s.flow)).length > 0;
        assert.equal(verdict.agree, ghost === undefined && !stale, s.id);
      }
    }
  });

  test('each altered field is reported', () => {
    const swapped = [...success.calls];
    [swapped[3], swapped[4]] = [swapped[4] as string, swapped[3] as string];
    assert.deepEqual(fields({ ...success, calls: swapped }), ['invariant', 'calls']);
    assert.deepEqual(fields({ ...success, calls: success.calls.slice(0, -1) }), ['calls']);
    assert.deepEqual(fields({ ...success, flowState: 'REVERTED' }), ['flowState']);
    assert.deepEqual(fields({ ...success, atoms: { ...success.atoms, t3: 'PENDING' } }), ['atoms']);
    assert.deepEqual(fields({ ...success, results: { ...success.results, t1: 't1(x=1)' } }), [
      'results',
    ]);
    assert.deepEqual(fields({ ...success, histories: { r1: [[1, ['t2']]] } }), ['histories']);
    assert.deepEqual(
      fields({
        ...success,
        decisions: [{ retry: 'r1', decision: 'REVERT', history: [[1, ['t2']]] }],
      }),
      ['decisions'],
    );
    assert.deepEqual(fields({ ...success, decisions: [] }), ['decisions']);
    assert.deepEqual(
      fields({ ...success, raised: { wrapped: false, messages: ['t2 failed on execute #1'] } }),
      ['raised'],
    );
    assert.deepEqual(fields({ ...success, error: 'run did not finish' }), ['error']);
  });

  test('the failures of the attempt being decided are compared by count, not by name', () => {
    const taskflow: Outcome = {
      ...success,
      decisions: [{ retry: 'r1', decision: 'RETRY', history: [[1, ['t1', 't2']]] }],
    };
    const reordered: Outcome = {
      ...success,
      decisions: [{ retry: 'r1', decision: 'RETRY', history: [[1, ['t2', 't3']]] }],
    };
    assert.deepEqual(fields(reordered, taskflow), []);
    const fewer: Outcome = {
      ...success,
      decisions: [{ retry: 'r1', decision: 'RETRY', history: [[1, ['t2']]] }],
    };
    assert.deepEqual(fields(fewer, taskflow), ['decisions']);
  });

  test("a ghost revert in TaskFlow's log limits the comparison to the calls before it", () => {
    const ghost: Outcome = {
      ...success,
      calls: ['execute r1', 'execute t1', 'execute t2', 'revert t3', 'revert t2'],
      flowState: 'RUNNING',
    };
    const agreeing = compareOutcome(spec, success, [ghost]);
    assert.equal(agreeing.agree, true);
    assert.deepEqual(
      agreeing.allowed.map((a) => a.rule),
      ['taskflow-ghost-revert'],
    );
    const early: Outcome = { ...success, calls: ['execute r1', 'execute t2', 'execute t1'] };
    assert.equal(compareOutcome(spec, early, [ghost]).agree, false);
  });

  test('reverting an atom before one that runs after it is a ghost revert too', () => {
    const calls = ['execute r1', 'execute t1', 'execute t2', 'revert t1', 'revert t2'];
    assert.match(firstGhostRevert(calls, successorsOf(spec.flow))?.why ?? '', /before t2/);
  });

  test('a stale failure TaskFlow re-raises is dropped, a different failure is not', () => {
    const reverted = (messages: string[]): Outcome => ({
      calls: [
        'execute r1',
        'execute t1',
        'execute t2',
        'revert t2',
        'revert t1',
        'execute r1',
        'execute t1',
        'execute t2',
        'execute t3',
        'revert t3',
        'revert t2',
        'revert t1',
        'revert r1',
      ],
      decisions: [],
      flowState: 'REVERTED',
      atoms: { r1: 'REVERTED', t1: 'REVERTED', t2: 'REVERTED', t3: 'REVERTED' },
      results: {},
      histories: { r1: [] },
      raised: { wrapped: messages.length > 1, messages },
    });
    const taskflow = reverted(['t2 failed on execute #1', 't3 failed on execute #1']);
    const verdict = compareOutcome(spec, reverted(['t3 failed on execute #1']), [taskflow]);
    assert.equal(verdict.agree, true);
    assert.deepEqual(
      verdict.allowed.map((a) => a.rule),
      ['taskflow-stale-failure'],
    );
    // The current attempt's failure is not stale: leaving it out is a disagreement.
    const missing = compareOutcome(spec, reverted(['t2 failed on execute #1']), [taskflow]);
    assert.equal(missing.agree, false);
    assert.deepEqual(
      missing.diffs.map((d) => d.field),
      ['raised'],
    );
  });

  test('ours agrees when it matches any of TaskFlow’s outcomes, and reports the closest', () => {
    const other: Outcome = { ...success, flowState: 'REVERTED' };
    assert.equal(compareOutcome(spec, success, [other, success]).variant, 1);
    const far: Outcome = { ...other, atoms: {}, results: {} };
    const verdict = compareOutcome(spec, other, [far, success]);
    assert.equal(verdict.agree, false);
    assert.equal(verdict.variant, 1);
  });
});
