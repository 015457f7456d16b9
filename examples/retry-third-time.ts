/**
 * A flaky task inside a flow guarded by a Times retry. The task fails twice and succeeds on the
 * third attempt; between attempts the retry waits with exponential backoff (10 ms, then 20 ms).
 *
 * The engine takes its clock as an option; here the real clock is wrapped so the example can
 * print the delays the engine asked for (jitter is off, so they are exact).
 *
 * Run: node --import tsx examples/retry-third-time.ts
 */
import {
  type Clock,
  Engine,
  type EngineEvent,
  linearFlow,
  systemClock,
  Times,
  task,
} from '../src/index.ts';

class ServiceUnavailable extends Error {
  override name = 'ServiceUnavailable';
}

const reserveSeat = task({
  name: 'reserve-seat',
  requires: ['flight', 'attempt'],
  provides: 'seat',
  execute: ({ flight, attempt }: { flight: string; attempt: number }) => {
    if (attempt < 3) {
      console.log(`attempt ${attempt}: reserve-seat on ${flight} fails`);
      throw new ServiceUnavailable(`booking service busy (attempt ${attempt})`);
    }
    console.log(`attempt ${attempt}: reserve-seat on ${flight} succeeds`);
    return '14C';
  },
  revert: ({ attempt }) => console.log(`attempt ${attempt}: reverting reserve-seat`),
});

const retry = new Times({
  name: 'reserve-retry',
  attempts: 5,
  provides: 'attempt',
  backoff: { initialMs: 10, factor: 2, jitter: false },
});
const flow = linearFlow('book', [reserveSeat], { retry });

const clock: Clock = {
  now: () => systemClock.now(),
  sleep: (ms, signal) => {
    console.log(`waiting ${ms} ms before the next attempt`);
    return systemClock.sleep(ms, signal);
  },
};

const onEvent = (event: EngineEvent): void => {
  if (event.type === 'retry') {
    const reasons = event.failures.map((f) => `${f.type}: ${f.message}`).join('; ');
    console.log(
      `${event.retry} decided ${event.decision} after attempt ${event.attempt} (${reasons})`,
    );
  }
};

const engine = new Engine(flow, { store: { flight: 'LH 404' }, clock, listeners: [onEvent] });
const { outputs } = await engine.run();
console.log(`state: ${engine.state}, seat: ${String(outputs.seat)}`);
const history = engine.atom('reserve-retry').history;
console.log(
  `retry history: ${history.map((h) => `${String(h.result)}[${Object.keys(h.failures).join(',')}]`).join(' ')}`,
);
console.log(`retried ${engine.statistics.retried} times`);
