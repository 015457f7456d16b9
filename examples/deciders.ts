/**
 * Deciders: a graph link may carry a function of its source's results. When it says no, the
 * link's target is IGNORED, and how far that reaches depends on the link's depth:
 * ALL ignores everything after the target, NEIGHBORS the target and the tasks right after it, ATOM ignores the target alone (what follows still
 * runs, since IGNORE counts as success). An ignored atom never runs and is never reverted.
 *
 * Run: node --import tsx examples/deciders.ts
 */
import { type DeciderDepth, Engine, graphFlow, task } from '../src/index.ts';

const executed: string[] = [];
const step = (name: string) =>
  task({
    name,
    execute: () => {
      executed.push(name);
    },
  });

const checkStock = task({
  name: 'check-stock',
  requires: ['quantity'],
  provides: 'available',
  execute: ({ quantity }: { quantity: number }) => {
    executed.push('check-stock');
    return quantity <= 5;
  },
});

function orderFlow(depth: DeciderDepth) {
  return graphFlow('order', [checkStock, step('reserve'), step('ship'), step('email-customer')])
    .link('check-stock', 'reserve', {
      decider: (results) => results['check-stock'] === true,
      depth,
    })
    .link('reserve', 'ship')
    .link('ship', 'email-customer');
}

for (const [quantity, depth] of [
  [3, 'ALL'],
  [9, 'ALL'],
  [9, 'NEIGHBORS'],
  [9, 'ATOM'],
] as const) {
  executed.length = 0;
  const engine = new Engine(orderFlow(depth), { store: { quantity } });
  const { state } = await engine.run();
  const ignored = engine
    .atoms()
    .filter((a) => a.state === 'IGNORE')
    .map((a) => a.name);
  console.log(
    `quantity ${quantity}, depth ${depth}: ${state}; ran [${executed.join(', ')}]; ignored [${ignored.join(', ')}]`,
  );
}
