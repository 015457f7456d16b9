import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type AtomDetail, openRunStore, type RunStore } from '../../src/index.ts';

// Real processes run real flows on SQLite and PostgreSQL and kill themselves with SIGKILL at a
// chosen point (inside execute and revert, right after each acknowledged write); a fresh process
// then resumes the run. Kill points are sampled with a fixed seed so every transition kind is
// hit while CI stays fast.

const CHILD = fileURLToPath(new URL('../fixtures/crash-child.ts', import.meta.url));
/** Scratch files of this test process: SQLite databases and side-effect logs. */
export const dir = mkdtempSync(join(tmpdir(), 'taskflow-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface ChildResult {
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly output: { points: number; state: string; kinds: string[] } | undefined;
  readonly stderr: string;
}

function runChild(env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CHILD],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').at(-1);
        resolve({
          signal: (error as { signal?: NodeJS.Signals } | null)?.signal ?? null,
          code: (error as { code?: number } | null)?.code ?? 0,
          output: line
            ? (JSON.parse(line) as { points: number; state: string; kinds: string[] })
            : undefined,
          stderr,
        });
      },
    );
  });
}

/**
 * Kill points (1-based) covering every kind of point of the reference run (each kind of write,
 * inside execute and revert before and after the side effect), one seeded-random occurrence of
 * each, at most `limit` of them.
 */
function killPoints(kinds: readonly string[], limit: number, seed: number): number[] {
  let state = seed;
  const next = (bound: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % bound;
  };
  const byKind = new Map<string, number[]>();
  for (const [index, kind] of kinds.entries())
    byKind.set(kind, [...(byKind.get(kind) ?? []), index + 1]);
  const chosen = [...byKind.values()].map((points) => points[next(points.length)] as number);
  // Over the limit, a seeded subset keeps CI time bounded on the slower backends.
  while (chosen.length > limit) chosen.splice(next(chosen.length), 1);
  return chosen.sort((a, b) => a - b);
}

const byName = (atoms: readonly AtomDetail[]) => new Map(atoms.map((atom) => [atom.name, atom]));
const readLines = (file: string): string[] =>
  readFileSync(file, 'utf8').split('\n').filter(Boolean);

/** The atoms in the order their reverts first started (a revert in flight at a kill repeats). */
function revertOrder(effects: readonly string[]): string[] {
  const order: string[] = [];
  for (const line of effects) {
    const [kind, name = ''] = line.split(' ');
    if (kind === 'revert' && !order.includes(name)) order.push(name);
  }
  return order;
}

/** Checks what the resumed process did against the state the killed one left on disk. */
function checkNoDoubleWork(
  atKill: Map<string, AtomDetail>,
  effectsAfter: readonly string[],
  concurrency: number,
): void {
  const reverted = new Set<string>();
  const executed = new Set<string>();
  for (const line of effectsAfter) {
    const [kind, name = ''] = line.split(' ');
    const state = atKill.get(name)?.state;
    if (kind === 'exec') {
      assert.ok(
        !(state === 'SUCCESS' && !reverted.has(name)),
        `atom "${name}" was SUCCESS when the process died but ran again without being reverted first`,
      );
      executed.add(name);
    } else {
      assert.ok(
        !(state === 'REVERTED' && !executed.has(name)),
        `atom "${name}" was REVERTED when the process died but was reverted again`,
      );
      reverted.add(name);
    }
  }
  const inFlight = [...atKill.values()].filter(
    (atom) => atom.state === 'RUNNING' || atom.state === 'REVERTING',
  );
  assert.ok(
    inFlight.length <= concurrency,
    `${inFlight.length} atoms were in flight, more than the concurrency ${concurrency}`,
  );
}

const SCENARIOS = [
  { name: 'linear', concurrency: 1, end: 'SUCCESS' },
  { name: 'revert', concurrency: 1, end: 'REVERTED' },
  { name: 'unordered-revert', concurrency: 1, end: 'REVERTED' },
  { name: 'retry', concurrency: 1, end: 'SUCCESS' },
  { name: 'parallel', concurrency: 3, end: 'SUCCESS' },
] as const;

/**
 * For each scenario: a reference run, then one run killed (SIGKILL) at each chosen point and
 * resumed by a fresh process. Checks, for every killed run: the process died at that point;
 * the resumed one ends in the reference's flow state with every atom's state and result as in
 * the reference; no atom that was SUCCESS at the kill ran again without being reverted first,
 * and none that was REVERTED was reverted again; no more atoms were in flight than the
 * concurrency; and, for serial scenarios, reverts came in the reference's order.
 */
export async function killAndResume(
  backend: string,
  storeUrl: string,
  killLimit: number,
): Promise<void> {
  const store: RunStore = await openRunStore(storeUrl);
  try {
    for (const scenario of SCENARIOS) {
      const base = { STORE_URL: storeUrl, SCENARIO: scenario.name };
      const referenceEffects = join(dir, `${backend}-${scenario.name}-reference.log`);
      const reference = await runChild({
        ...base,
        FLOW_ID: `${scenario.name}-reference`,
        MODE: 'start',
        KILL_AT: '0',
        EFFECTS: referenceEffects,
      });
      assert.equal(reference.code, 0, reference.stderr);
      assert.equal(reference.output?.state, scenario.end);
      const expected = byName((await store.loadRun(`${scenario.name}-reference`))?.atoms ?? []);
      for (const killAt of killPoints(
        reference.output?.kinds ?? [],
        killLimit,
        scenario.name.length * 7919,
      )) {
        // With concurrency, how writes batch depends on timing, so a run may make fewer write
        // points than the reference and end before reaching the kill; such a run is tried
        // again, and from the third try on killed at the last point such a run makes, so that
        // a busy machine (which batches more) still gets a run that dies.
        const attempts = scenario.concurrency > 1 ? 5 : 1;
        let at = killAt;
        let flowId = '';
        let effects = '';
        let killed: Awaited<ReturnType<typeof runChild>> | undefined;
        for (let attempt = 1; attempt <= attempts; attempt++) {
          flowId = `${scenario.name}-kill-${killAt}${attempt > 1 ? `-try-${attempt}` : ''}`;
          effects = join(dir, `${backend}-${flowId}.log`);
          writeFileSync(effects, '');
          killed = await runChild({
            ...base,
            FLOW_ID: flowId,
            MODE: 'start',
            KILL_AT: String(at),
            EFFECTS: effects,
          });
          const made = killed.code === 0 ? killed.output?.points : undefined;
          if (made === undefined || made >= at) break;
          if (attempt >= 2) at = made;
        }
        assert.equal(
          killed?.signal,
          'SIGKILL',
          `${flowId}: the process should have died at point ${at}: ${killed?.stderr}`,
        );
        const atKill = byName((await store.loadRun(flowId))?.atoms ?? []);
        const before = readLines(effects).length;
        const resumed = await runChild({
          ...base,
          FLOW_ID: flowId,
          MODE: 'resume',
          KILL_AT: '0',
          EFFECTS: effects,
        });
        assert.equal(resumed.code, 0, `${flowId}: ${resumed.stderr}`);
        assert.equal(resumed.output?.state, scenario.end, `${flowId} should end ${scenario.end}`);
        const final = await store.loadRun(flowId);
        assert.equal(final?.flow.state, scenario.end);
        for (const [name, want] of expected) {
          const got = byName(final?.atoms ?? []).get(name);
          assert.equal(got?.state, want.state, `${flowId}: atom ${name} state`);
          assert.deepEqual(got?.result, want.result, `${flowId}: atom ${name} result`);
        }
        checkNoDoubleWork(atKill, readLines(effects).slice(before), scenario.concurrency);
        if (scenario.concurrency === 1) {
          assert.deepEqual(
            revertOrder(readLines(effects)),
            revertOrder(readLines(referenceEffects)),
            `${flowId}: reverts go in the order of the uninterrupted run`,
          );
        }
      }
    }
  } finally {
    await store.close();
  }
}
