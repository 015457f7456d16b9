import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  Engine,
  type Flow,
  type FlowChild,
  graphFlow,
  linearFlow,
  type Task,
  task,
  unorderedFlow,
} from '../../src/index.ts';

// Sized for a 2-core CI: each property runs a few hundred small flows in well under a few seconds.
// Set FC_NUM_RUNS to hunt for rarer counterexamples locally.
const RUNS = Number(process.env.FC_NUM_RUNS ?? 150);

/** How a task yields before finishing, so that concurrent runs interleave in different ways. */
type Pause = 'none' | 'microtask' | 'timer';
const pauseArb: fc.Arbitrary<Pause> = fc.constantFrom('none', 'microtask', 'timer');

async function pause(kind: Pause): Promise<void> {
  if (kind === 'microtask') await Promise.resolve();
  else if (kind === 'timer') await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Every execute and revert call of one run, in the order they happened. */
type Step = {
  readonly what: 'start' | 'done' | 'failed' | 'revert-start' | 'revert-done';
  readonly name: string;
};

/** A task that records its calls, pauses, checks the inputs it was given, and fails when told. */
function probe(
  name: string,
  steps: Step[],
  options: { provides?: string; requires?: readonly string[]; fail?: boolean; pause?: Pause } = {},
): Task {
  return task({
    name,
    ...(options.provides === undefined ? {} : { provides: options.provides }),
    ...(options.requires === undefined ? {} : { requires: options.requires }),
    execute: async (inputs) => {
      steps.push({ what: 'start', name });
      await pause(options.pause ?? 'none');
      for (const symbol of options.requires ?? []) {
        // Symbol "s3" is provided by task "t3", whose result is its own name.
        assert.equal(
          inputs[symbol],
          `t${symbol.slice(1)}`,
          `${name} got the wrong value for ${symbol}`,
        );
      }
      if (options.fail) {
        steps.push({ what: 'failed', name });
        throw new Error(`${name} failed on purpose`);
      }
      steps.push({ what: 'done', name });
      return name;
    },
    revert: async () => {
      steps.push({ what: 'revert-start', name });
      await pause(options.pause ?? 'none');
      steps.push({ what: 'revert-done', name });
    },
  });
}

const indexOf = (steps: readonly Step[], what: Step['what'], name: string): number =>
  steps.findIndex((s) => s.what === what && s.name === name);
const namesOf = (steps: readonly Step[], ...what: Step['what'][]): string[] =>
  steps.filter((s) => what.includes(s.what)).map((s) => s.name);

/**
 * A random acyclic graph: task `ti` provides `si` and may require symbols of earlier tasks;
 * explicit links go from earlier to later tasks; children are added in a random order.
 */
interface GraphSpec {
  readonly n: number;
  readonly requires: readonly (readonly number[])[];
  readonly links: readonly (readonly [number, number])[];
  readonly order: readonly number[];
  readonly pauses: readonly Pause[];
}

const graphSpecArb: fc.Arbitrary<GraphSpec> = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    requires: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        i === 0
          ? fc.constant<number[]>([])
          : fc.uniqueArray(fc.nat({ max: i - 1 }), { maxLength: 3 }),
      ),
    ),
    links: fc
      .array(fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: n - 1 })), { maxLength: n })
      .map((pairs) =>
        pairs
          .filter(([a, b]) => a !== b)
          .map(([a, b]): readonly [number, number] => (a < b ? [a, b] : [b, a])),
      ),
    order: fc.shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    ),
    pauses: fc.array(pauseArb, { minLength: n, maxLength: n }),
  }),
);

/** Every edge the graph must respect, as [from, to] task indexes. */
function edgesOf(spec: GraphSpec): [number, number][] {
  const edges: [number, number][] = [];
  spec.requires.forEach((needs, to) => {
    for (const from of needs) edges.push([from, to]);
  });
  for (const [from, to] of spec.links) edges.push([from, to]);
  return edges;
}

function buildGraph(spec: GraphSpec, steps: Step[], failing?: number): Flow {
  const children = spec.order.map((i) =>
    probe(`t${i}`, steps, {
      provides: `s${i}`,
      requires: (spec.requires[i] ?? []).map((j) => `s${j}`),
      fail: i === failing,
      pause: spec.pauses[i] ?? 'none',
    }),
  );
  let flow = graphFlow('g', children);
  for (const [from, to] of spec.links) flow = flow.link(`t${from}`, `t${to}`);
  return flow;
}

async function runQuietly(engine: Engine): Promise<unknown> {
  try {
    await engine.run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('engine properties', () => {
  for (const concurrency of [1, 4]) {
    test(`any random acyclic graph flow validates and runs every task once in an order that respects every edge (concurrency ${concurrency})`, async () => {
      await fc.assert(
        fc.asyncProperty(graphSpecArb, async (spec) => {
          const steps: Step[] = [];
          const engine = new Engine(buildGraph(spec, steps), { concurrency });
          engine.compile();
          const { state } = await engine.run();
          assert.equal(state, 'SUCCESS');
          assert.deepEqual(
            namesOf(steps, 'start').sort(),
            Array.from({ length: spec.n }, (_, i) => `t${i}`).sort(),
          );
          for (const [from, to] of edgesOf(spec)) {
            assert.ok(
              indexOf(steps, 'done', `t${from}`) < indexOf(steps, 'start', `t${to}`),
              `t${to} started before t${from} finished`,
            );
          }
          if (concurrency === 1) {
            // Serial means serial: each task finishes before the next starts.
            steps.forEach((step, i) => {
              if (step.what === 'start') assert.equal(steps[i + 1]?.name, step.name);
            });
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  test('after a random task fails with concurrency 1, reverts run in exactly the reverse of the completion order and never touch tasks that did not run', async () => {
    await fc.assert(
      fc.asyncProperty(
        graphSpecArb.chain((spec) => fc.tuple(fc.constant(spec), fc.nat({ max: spec.n - 1 }))),
        async ([spec, failing]) => {
          const steps: Step[] = [];
          const engine = new Engine(buildGraph(spec, steps, failing), { concurrency: 1 });
          const error = await runQuietly(engine);
          assert.ok(error instanceof Error);
          assert.equal(error.message, `t${failing} failed on purpose`);
          assert.equal(engine.state, 'REVERTED');
          const completed = namesOf(steps, 'done', 'failed');
          const reverted = namesOf(steps, 'revert-start');
          assert.deepEqual(reverted, [...completed].reverse());
          for (let i = 0; i < spec.n; i++) {
            const name = `t${i}`;
            assert.equal(
              engine.atom(name).state,
              completed.includes(name) ? 'REVERTED' : 'PENDING',
              name,
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('after a random task fails with concurrency 4, each task that ran reverts once and only after everything depending on it has reverted', async () => {
    await fc.assert(
      fc.asyncProperty(
        graphSpecArb.chain((spec) => fc.tuple(fc.constant(spec), fc.nat({ max: spec.n - 1 }))),
        async ([spec, failing]) => {
          const steps: Step[] = [];
          const events: string[] = [];
          const engine = new Engine(buildGraph(spec, steps, failing), {
            concurrency: 4,
            listeners: [(e) => e.type === 'atom' && events.push(`${e.atom} ${e.to}`)],
          });
          const error = await runQuietly(engine);
          assert.ok(error instanceof Error);
          assert.equal(engine.state, 'REVERTED');
          const started = namesOf(steps, 'start');
          const reverted = namesOf(steps, 'revert-start');
          assert.deepEqual(
            [...reverted].sort(),
            [...started].sort(),
            'every task that ran reverts exactly once',
          );
          // Nothing starts once the engine has recorded the failure; tasks already running finish and revert.
          const recordedAt = events.indexOf(`t${failing} FAILURE`);
          assert.ok(recordedAt >= 0);
          assert.ok(
            events.slice(recordedAt).every((e) => !e.endsWith(' RUNNING')),
            'a task started after the failure',
          );
          for (const [from, to] of edgesOf(spec)) {
            if (!started.includes(`t${to}`)) continue;
            assert.ok(
              indexOf(steps, 'revert-done', `t${to}`) < indexOf(steps, 'revert-start', `t${from}`),
              `t${from} reverted before its dependent t${to} finished reverting`,
            );
          }
          for (let i = 0; i < spec.n; i++) {
            const name = `t${i}`;
            assert.equal(
              engine.atom(name).state,
              started.includes(name) ? 'REVERTED' : 'PENDING',
              name,
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('random nested flows with a random failure end REVERTED with every atom that ran REVERTED, the rest PENDING, and serial reverts in reverse completion order', async () => {
    await fc.assert(
      fc.asyncProperty(
        nestedSpecArb,
        fc.nat(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(pauseArb, { minLength: 1, maxLength: 40 }),
        async (spec, failSeed, concurrency, pauses) => {
          const steps: Step[] = [];
          const names: string[] = [];
          const shape = nestedShape(spec, names);
          const failing = names[failSeed % names.length] as string;
          const flow = buildNested(shape, steps, failing, pauses);
          const engine = new Engine(flow as Flow, { concurrency });
          const error = await runQuietly(engine);
          assert.ok(error instanceof Error, `${describeNested(shape)} did not fail`);
          assert.equal(engine.state, 'REVERTED', describeNested(shape));
          const started = namesOf(steps, 'start');
          assert.ok(started.includes(failing));
          assert.deepEqual(
            namesOf(steps, 'revert-start').sort(),
            [...started].sort(),
            describeNested(shape),
          );
          if (concurrency === 1) {
            const completed = namesOf(steps, 'done', 'failed');
            assert.deepEqual(
              namesOf(steps, 'revert-start'),
              completed.reverse(),
              describeNested(shape),
            );
          }
          for (const name of names) {
            assert.equal(
              engine.atom(name).state,
              started.includes(name) ? 'REVERTED' : 'PENDING',
              `${name} in ${describeNested(shape)}`,
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

/** A random tree of flows; leaves are tasks. Graph flows get random links from earlier to later children. */
type NestedSpec =
  | { readonly type: 'task' }
  | {
      readonly type: 'linear' | 'unordered' | 'graph';
      readonly children: readonly NestedSpec[];
      readonly links: readonly (readonly [number, number])[];
    };

const nestedSpecArb: fc.Arbitrary<NestedSpec> = fc.letrec<{ node: NestedSpec; flow: NestedSpec }>(
  (tie) => ({
    node: fc.oneof(
      { depthSize: 'small', maxDepth: 3, withCrossShrink: true },
      fc.constant({ type: 'task' as const }),
      tie('flow'),
    ),
    flow: fc.record({
      type: fc.constantFrom('linear' as const, 'unordered' as const, 'graph' as const),
      children: fc.array(tie('node'), { minLength: 1, maxLength: 4 }),
      links: fc.array(fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 })), { maxLength: 3 }),
    }),
  }),
).flow;

/** The spec with names assigned (t0, t1, ... for tasks; f0, f1, ... for flows), in definition order. */
type NestedShape =
  | { readonly type: 'task'; readonly name: string }
  | {
      readonly type: 'linear' | 'unordered' | 'graph';
      readonly name: string;
      readonly children: readonly NestedShape[];
      readonly links: readonly (readonly [number, number])[];
    };

function nestedShape(spec: NestedSpec, names: string[], counter = { flows: 0 }): NestedShape {
  if (spec.type === 'task') {
    const name = `t${names.length}`;
    names.push(name);
    return { type: 'task', name };
  }
  const name = `f${counter.flows++}`;
  const children = spec.children.map((child) => nestedShape(child, names, counter));
  const links = spec.links
    .map(([a, b]) => [a % children.length, b % children.length] as const)
    .filter(([a, b]) => a < b);
  if (children.length === 0) {
    // A flow with no task would leave nothing to fail; keep every flow holding at least one.
    const leaf = `t${names.length}`;
    names.push(leaf);
    return { type: spec.type, name, children: [{ type: 'task', name: leaf }], links: [] };
  }
  return { type: spec.type, name, children, links };
}

function buildNested(
  shape: NestedShape,
  steps: Step[],
  failing: string,
  pauses: readonly Pause[],
): FlowChild {
  if (shape.type === 'task') {
    const index = Number(shape.name.slice(1));
    return probe(shape.name, steps, {
      fail: shape.name === failing,
      pause: pauses[index % pauses.length] ?? 'none',
    });
  }
  const children = shape.children.map((child) => buildNested(child, steps, failing, pauses));
  switch (shape.type) {
    case 'linear':
      return linearFlow(shape.name, children);
    case 'unordered':
      return unorderedFlow(shape.name, children);
    case 'graph': {
      let flow = graphFlow(shape.name, children);
      for (const [a, b] of shape.links)
        flow = flow.link(children[a] as FlowChild, children[b] as FlowChild);
      return flow;
    }
  }
}

/** `lf[t0, uf[t1, t2], gf[t3, t4 | 0->1]]`, for failure messages. */
function describeNested(shape: NestedShape): string {
  if (shape.type === 'task') return shape.name;
  const prefix = { linear: 'lf', unordered: 'uf', graph: 'gf' }[shape.type];
  const links =
    shape.links.length > 0 ? ` | ${shape.links.map(([a, b]) => `${a}->${b}`).join(', ')}` : '';
  return `${prefix}[${shape.children.map(describeNested).join(', ')}${links}]`;
}
