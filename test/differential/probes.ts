/**
 * Hand-written cases recorded with the random ones: each isolates one behaviour, so that a
 * disagreement on it reads at a glance. Kept small; their ids start with "probe-".
 */
import type { CaseSpec, FailOn, FlowSpec, FlowType, RetrySpec, TaskSpec } from './spec.ts';

interface TaskOptions {
  readonly requires?: readonly string[];
  readonly provides?: string;
  readonly failOn?: FailOn;
  readonly revertFailOn?: FailOn;
}

const t = (name: string, priority: number, o: TaskOptions = {}): TaskSpec => ({
  kind: 'task',
  name,
  priority,
  requires: o.requires ?? [],
  ...(o.provides === undefined ? {} : { provides: o.provides }),
  failOn: o.failOn ?? [],
  revertFailOn: o.revertFailOn ?? [],
});

const flow = (
  type: FlowType,
  name: string,
  children: FlowSpec['children'],
  retry?: RetrySpec,
): FlowSpec => ({ kind: 'flow', type, name, children, ...(retry ? { retry } : {}) });

const probe = (name: string, root: FlowSpec): CaseSpec => ({
  id: `probe-${name}`,
  seed: -1,
  store: {},
  flow: root,
});

export const PROBES: readonly CaseSpec[] = [
  // A failure does not stop the rest of its step: TaskFlow runs t1 too, then reverts both.
  probe('step-runs-the-rest', flow('graph', 'f1', [t('t1', 1), t('t2', 2, { failOn: [1] })])),
  // docs/semantics.md's example: unordered [linear [a (p3), b (p4)], c (p2)] runs a, c, b.
  probe(
    'step-order',
    flow('unordered', 'f1', [flow('linear', 'f2', [t('a', 3), t('b', 4)]), t('c', 2)]),
  ),
  // Reverts ready together go by priority: c (p3) before b (p1), though b finished last.
  probe(
    'revert-order',
    flow('unordered', 'f1', [
      flow('linear', 'f2', [t('a', 5), t('b', 1, { failOn: 'always' })]),
      t('c', 3),
    ]),
  ),
  // A revert that fails does not stop the other reverts of its step: a is reverted.
  probe(
    'revert-step-failure',
    flow('unordered', 'f1', [t('a', 2), t('b', 1, { failOn: 'always', revertFailOn: 'always' })]),
  ),
  // revertScope 'subflow': reverting f2 leaves f3 running to its end.
  probe(
    'subflow-revert-spares-siblings',
    flow('unordered', 'f1', [
      flow('linear', 'f2', [t('b', 4, { failOn: 'always' })], {
        name: 'r2',
        type: 'always-revert',
        priority: 6,
      }),
      flow('linear', 'f3', [t('c', 3), t('d', 2), t('e', 1)]),
    ]),
  ),
  // A retry's reset must not leave t2 queued to start before the retry runs again.
  probe(
    'retry-reset-requeues',
    flow('unordered', 'f1', [t('t1', 3, { failOn: [1] }), t('t2', 2, { requires: ['v'] })], {
      name: 'r1',
      type: 'times',
      priority: 1,
      attempts: 2,
      provides: 'v',
    }),
  ),
  // Two failures in one step are one attempt of the retry: the second attempt succeeds.
  probe(
    'retry-two-failures-one-step',
    flow('unordered', 'f1', [t('a', 3, { failOn: [1] }), t('b', 2, { failOn: [1] }), t('c', 1)], {
      name: 'r1',
      type: 'times',
      priority: 8,
      attempts: 2,
    }),
  ),
  // A nested AlwaysRevert gives up; the outer Times retries (defer_reverts) or not (default).
  probe(
    'nested-revert',
    flow(
      'linear',
      'f1',
      [
        t('t0', 9),
        flow('linear', 'f2', [t('t1', 5, { failOn: [1] })], {
          name: 'r2',
          type: 'always-revert',
          priority: 6,
        }),
      ],
      { name: 'r1', type: 'times', priority: 8, attempts: 2 },
    ),
  ),
];
