// The soak variant of the conductor fault campaign (test/faults/): the same campaign for
// minutes, with more jobs and faults, and the takeover time after SIGKILL measured against
// lease TTL + one heartbeat (TTL/3) + 200 ms. Not part of `npm test`.
//
//   npm run soak -- [--backend sqlite|postgres|redis|all] [--minutes 3] [--seed N]
//                   [--ttl 800] [--conductors 4] [--outage] [--jobs-per-minute 120]
//                   [--kills-per-minute 40] [--zombies-per-minute 6]
//   npm run soak -- --recheck /tmp/.../postgres-123.log   (the checker again on a kept log
//                   and its .jobs.json, e.g. after changing the checker)
//
// Exits 1 when the checker found violations, a conductor died by itself, or the takeover p99
// exceeds the bound. Keeps the execution logs in a temporary folder it names.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BACKEND_NAMES,
  type BackendName,
  backendUnavailable,
  outageUnavailable,
  prepareBackend,
} from '../test/faults/backends.ts';
import { type CampaignResult, runCampaign } from '../test/faults/campaign.ts';
import {
  analyzeCampaign,
  type FinalJob,
  parseLog,
  percentile,
  summarize,
} from '../test/faults/checker.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'all' },
    minutes: { type: 'string', default: '3' },
    seed: { type: 'string' },
    ttl: { type: 'string', default: '800' },
    conductors: { type: 'string', default: '4' },
    outage: { type: 'boolean', default: false },
    'jobs-per-minute': { type: 'string', default: '120' },
    recheck: { type: 'string' },
    'kills-per-minute': { type: 'string', default: '40' },
    'zombies-per-minute': { type: 'string', default: '6' },
  },
});

if (values.recheck !== undefined) {
  const { lines } = parseLog(readFileSync(values.recheck, 'utf8'));
  const jobs = JSON.parse(readFileSync(`${values.recheck}.jobs.json`, 'utf8')) as FinalJob[];
  const { violations, notes } = analyzeCampaign({ lines, jobs });
  console.log(summarize(violations, 20));
  for (const note of notes) console.log(`note: ${note}`);
  process.exit(violations.length > 0 ? 1 : 0);
}

const backends: BackendName[] =
  values.backend === 'all' ? [...BACKEND_NAMES] : [values.backend as BackendName];
for (const name of backends) {
  if (!BACKEND_NAMES.includes(name)) throw new Error(`unknown backend ${name}`);
}
const minutes = Number(values.minutes);
const ttlMs = Number(values.ttl);
const windowMs = Math.round(minutes * 60_000);
const perMinute = (key: 'jobs-per-minute' | 'kills-per-minute' | 'zombies-per-minute') =>
  Math.max(1, Math.round(Number(values[key]) * minutes));
const dir = mkdtempSync(join(tmpdir(), 'taskflow-soak-'));
const bound = ttlMs + ttlMs / 3 + 200;
let failed = false;

function report(name: string, result: CampaignResult): void {
  // The bound is about the lease: takeovers where every other conductor was busy when the
  // claim expired measure a queue, and are reported apart.
  const clean = result.takeovers.filter((t) => !t.duringOutage);
  const times = clean.filter((t) => t.freeSlot).map((t) => t.ms);
  const queued = clean.filter((t) => !t.freeSlot).map((t) => t.ms);
  const outage = result.takeovers.filter((t) => t.duringOutage).map((t) => t.ms);
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  const max = times.length > 0 ? Math.max(...times) : Number.NaN;
  const s = result.stats;
  console.log(`\n== ${name} (seed ${result.seed}) ==`);
  console.log(
    `jobs ${result.jobs.length} ${JSON.stringify(s.mix)}, task starts ${s.taskStarts}, conductors spawned ${s.spawned}`,
  );
  console.log(
    `kills ${s.kills}, zombies ${s.zombies}, outages ${s.outages}; window ${s.windowMs} ms, settled in ${s.settledMs} ms, total ${s.elapsedMs} ms`,
  );
  console.log(
    `takeover after SIGKILL (kill -> next claim by another conductor), ${times.length} takeovers with a free conductor at expiry: p50 ${p50} ms, p99 ${p99} ms, max ${max} ms; bound TTL + TTL/3 + 200 = ${bound} ms: ${p99 <= bound ? 'within' : 'OVER'}${result.neverTaken ? ` (${result.neverTaken} held jobs never claimed again)` : ''}`,
  );
  if (queued.length > 0)
    console.log(
      `  ${queued.length} more takeovers waited for a busy conductor: p50 ${percentile(queued, 50)} ms, max ${Math.max(...queued)} ms`,
    );
  if (outage.length > 0)
    console.log(
      `  ${outage.length} more takeovers spanned the outage or the 1 s backoff after it: max ${Math.max(...outage)} ms`,
    );
  const after = clean.filter((t) => t.freeSlot).map((t) => t.afterExpiryMs);
  console.log(
    `  of which from the victim's lease expiry (as the board last renewed it) to the next claim: p50 ${percentile(after, 50)} ms, p99 ${percentile(after, 99)} ms, max ${after.length > 0 ? Math.max(...after) : Number.NaN} ms`,
  );
  console.log(summarize(result.violations, 8));
  if (result.notes.length > 0)
    console.log(
      `${result.notes.length} stale task start(s) came after a SIGSTOP that fell between the engine's lease check and the task (not violations; only a fence in the task's side effect refuses those):\n  ${result.notes.slice(0, 5).join('\n  ')}`,
    );
  if (result.unexpectedExits.length > 0)
    console.log(`conductors that died by themselves:\n  ${result.unexpectedExits.join('\n  ')}`);
  console.log(`log: ${result.logFile}`);
  if (result.violations.length > 0 || result.unexpectedExits.length > 0 || !(p99 <= bound))
    failed = true;
}

for (const name of backends) {
  const unavailable = await backendUnavailable(name);
  if (unavailable) {
    console.log(`== ${name}: skipped, ${unavailable}`);
    continue;
  }
  const noOutage = values.outage ? outageUnavailable(name) : 'not asked for (--outage)';
  const seed =
    values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  const prepared = await prepareBackend(name, mkdtempSync(join(dir, `${name}-`)), !noOutage);
  try {
    const kills = perMinute('kills-per-minute');
    const zombies = perMinute('zombies-per-minute');
    const outageCount = noOutage ? 0 : 1;
    console.log(
      `${name}: ${minutes} min, seed ${seed}, TTL ${ttlMs} ms${noOutage ? `, no outage (${noOutage})` : ', one outage of 2 s'}`,
    );
    const result = await runCampaign({
      backend: prepared.backend,
      dir,
      seed,
      jobs: perMinute('jobs-per-minute'),
      conductors: Number(values.conductors),
      kills,
      zombies,
      windowMs,
      burst: 0,
      ttlMs,
      maxAttempts: kills + zombies + outageCount + 10,
      outageMs: noOutage ? 0 : 2_000,
      settleMs: 60_000,
      progress: (line) => console.log(line),
    });
    report(name, result);
  } finally {
    await prepared.dispose();
  }
}
process.exitCode = failed ? 1 : 0;
