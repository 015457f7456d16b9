/**
 * Suspend and continue: a listener suspends the run as soon as "b" succeeds. The run resolves
 * SUSPENDED with "c" still PENDING; running the same engine again runs only "c". A finished
 * flow is not run again until it is reset.
 *
 * Run: node --import tsx examples/suspend-resume.ts
 */
import { Engine, linearFlow, task } from '../src/index.ts';

const step = (name: string) =>
  task({
    name,
    provides: name,
    execute: () => {
      console.log(`  execute ${name}`);
      return name.toUpperCase();
    },
  });

const engine = new Engine(linearFlow('abc', [step('a'), step('b'), step('c')]));
engine.subscribe((event) => {
  if (event.type === 'atom' && event.atom === 'b' && event.to === 'SUCCESS') engine.suspend();
});

const states = (): string =>
  engine
    .atoms()
    .map((a) => `${a.name}=${a.state}`)
    .join(' ');

console.log('first run:');
const first = await engine.run();
console.log(`  -> ${first.state}; ${states()}; outputs ${JSON.stringify(first.outputs)}`);

console.log('second run (continues):');
const second = await engine.run();
console.log(`  -> ${second.state}; ${states()}; outputs ${JSON.stringify(second.outputs)}`);

console.log('third run (already finished, nothing runs):');
const third = await engine.run();
console.log(`  -> ${third.state}`);

console.log('after reset:');
await engine.reset();
console.log(`  ${engine.state}; ${states()}`);

console.log('fourth run (after reset, the same run repeats and suspends again):');
const fourth = await engine.run();
console.log(`  -> ${fourth.state}; ${states()}`);
