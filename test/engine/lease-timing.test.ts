import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SentAt } from '../../src/engine/lease-keeper.ts';
import { FakeClock } from '../../src/testing/index.ts';

// docs/semantics.md, "Leases and ownership": a lease counts as held only while both of this
// process's clocks say so, the engine's (wall time) and the monotonic one.

test('a lease is held only while both the engine clock and the monotonic clock say so', async () => {
  const clock = new FakeClock(1_000_000);
  const sent = new SentAt(clock);
  assert.equal(sent.until(1_000), 1_001_000);
  // The engine clock stands still (as a wall clock stepped back would) while real time passes:
  // the monotonic clock still counts it.
  await new Promise((resolve) => setTimeout(resolve, 60));
  const remaining = sent.remainingMs(1_000);
  assert.ok(remaining <= 945 && remaining > 0, `remaining ${remaining}`);
  // The engine clock jumps past the TTL (a system suspend, which the monotonic clock may not
  // count): the lease is no longer certainly held, whatever the monotonic clock says.
  await clock.advance(2_000);
  assert.ok(sent.remainingMs(1_000) < 0);
});
