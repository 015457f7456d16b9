/**
 * Fan-out / fan-in: an unordered flow asks four shops for a price at the same time (at most
 * three at once, the engine's concurrency), then a map task adds shipping to each price and a
 * reduce task folds them into the cheapest offer.
 *
 * Run: node --import tsx examples/fan-out-fan-in.ts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AtomContext,
  Engine,
  linearFlow,
  mapTask,
  reduceTask,
  task,
  unorderedFlow,
} from '../src/index.ts';

const catalogue: Record<string, number> = { north: 1999, south: 1749, east: 2150, west: 1800 };
const shops = Object.keys(catalogue);

let running = 0;
let mostAtOnce = 0;

// One task per shop; `inject` gives each its own shop, the product comes from the store.
const quotes = shops.map((shop) =>
  task({
    name: `quote-${shop}`,
    requires: ['shop', 'product'],
    inject: { shop },
    provides: `price-${shop}`,
    execute: async (
      { shop, product }: { shop: string; product: string },
      { signal }: AtomContext,
    ) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      console.log(`asking ${shop} for ${product}`);
      await sleep(20, undefined, { signal });
      running--;
      return { shop, cents: catalogue[shop] ?? Number.NaN };
    },
  }),
);

interface Offer {
  readonly shop: string;
  readonly cents: number;
}

// Map: the same function applied to each price, each result provided under its own name.
const withShipping = mapTask<Offer, Offer>({
  name: 'add-shipping',
  requires: shops.map((shop) => `price-${shop}`),
  provides: shops.map((shop) => `total-${shop}`),
  map: (offer) => ({ shop: offer.shop, cents: offer.cents + 499 }),
});

// Reduce: fold the totals, in `requires` order, into one result.
const cheapest = reduceTask<Offer, Offer>({
  name: 'cheapest',
  requires: shops.map((shop) => `total-${shop}`),
  provides: 'best',
  initial: { shop: 'none', cents: Number.POSITIVE_INFINITY },
  reduce: (best, offer) => (offer.cents < best.cents ? offer : best),
});

const flow = linearFlow('compare-prices', [
  unorderedFlow('ask-shops', quotes),
  withShipping,
  cheapest,
]);

const engine = new Engine(flow, { store: { product: 'kettle' }, concurrency: 3 });
const { outputs } = await engine.run();
for (const shop of shops) {
  const price = outputs[`price-${shop}`] as Offer;
  const total = outputs[`total-${shop}`] as Offer;
  console.log(`${shop}: ${price.cents} + 499 shipping = ${total.cents}`);
}
const best = outputs.best as Offer;
console.log(`cheapest: ${best.shop} at ${best.cents} cents`);
console.log(`at most ${mostAtOnce} quotes ran at once (concurrency 3)`);
