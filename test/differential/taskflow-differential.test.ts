/**
 * Differential test against Python TaskFlow 5.0.0: every recorded case (random flow specs,
 * see generator.ts) is rebuilt with our API, run at concurrency 1, and compared with what
 * TaskFlow's serial engine did (test/differential/recorded.json, made by
 * `node --import tsx scripts/differential/record.ts`).
 *
 * TaskFlow's default (`defer_reverts=False`) is compared with our `revertScope: 'subflow'`, and
 * `defer_reverts=True` with our default. Differences are allowed only where compare.ts matches
 * them to a documented TaskFlow defect; any other one fails with both call logs.
 *
 * DIFFERENTIAL_LIMIT=n prints n disagreements per mode (default 8).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runOurs } from './build.ts';
import {
  type Allowed,
  categorise,
  compareOutcome,
  formatDisagreement,
  type Verdict,
} from './compare.ts';
import { type LoadedCase, loadRecording } from './recording.ts';
import { MODES, type Mode, type Outcome } from './spec.ts';

const loaded = loadRecording();
const LIMIT = Number(process.env.DIFFERENTIAL_LIMIT ?? 8);

const MODE_NAMES: Record<Mode, string> = {
  subflow: "TaskFlow defer_reverts=False vs revertScope 'subflow'",
  enclosing: "TaskFlow defer_reverts=True vs revertScope 'enclosing' (default)",
};

interface Result {
  readonly loaded: LoadedCase;
  readonly ours: Outcome;
  readonly verdict: Verdict;
}

describe('differential test against Python TaskFlow', () => {
  test('the recording matches the generator (regenerate it after changing generator.ts)', () => {
    assert.ok(loaded.generatorMatches, 'generator.ts has a new GENERATOR_VERSION: re-record');
    const stale = loaded.cases.filter((c) => !c.specMatches).map((c) => c.recorded.id);
    assert.deepEqual(stale, [], 'these specs changed since they were recorded: re-record');
    assert.ok(loaded.cases.length >= 200, `only ${loaded.cases.length} recorded cases`);
  });

  for (const mode of MODES) {
    test(MODE_NAMES[mode], async (t) => {
      const results: Result[] = [];
      for (const c of loaded.cases) {
        if (!c.specMatches) continue;
        const ours = await runOurs(c.spec, mode);
        const verdict = compareOutcome(c.spec, ours, c.taskflow[mode]);
        results.push({ loaded: c, ours, verdict });
      }
      const bad = results.filter((r) => !r.verdict.agree);
      const allowed = new Map<Allowed['rule'], number>();
      for (const r of results)
        for (const a of r.verdict.allowed) allowed.set(a.rule, (allowed.get(a.rule) ?? 0) + 1);
      // Grouped by where the call logs first part; the smallest case of each group is shown
      // first, as it is the easiest to read, then more up to the limit.
      const size = (r: Result): number =>
        r.ours.calls.length + (r.loaded.taskflow[mode][r.verdict.variant]?.calls.length ?? 0);
      const groups = new Map<string, Result[]>();
      for (const r of [...bad].sort((a, b) => size(a) - size(b))) {
        const tf = r.loaded.taskflow[mode][r.verdict.variant] as Outcome;
        const key = categorise(r.verdict, tf, r.ours);
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
      const ranked = [...groups].sort((a, b) => b[1].length - a[1].length);
      const summary = [
        `${results.length} cases: ${results.length - bad.length} agree, ${bad.length} disagree.`,
        `Allowed differences: ${[...allowed].map(([rule, n]) => `${rule} ×${n}`).join(', ') || 'none'}.`,
        ...ranked.map(
          ([key, members]) =>
            `  ${members.length} × ${key} (${members
              .slice(0, 6)
              .map((m) => m.loaded.spec.id)
              .join(', ')}${members.length > 6 ? ', ...' : ''})`,
        ),
      ].join('\n');
      if (bad.length === 0) {
        t.diagnostic(summary);
        return;
      }
      const firsts = ranked.map(([, members]) => members[0] as Result);
      const rest = ranked.flatMap(([, members]) => members.slice(1));
      const shown = [...firsts, ...rest].slice(0, Math.max(LIMIT, firsts.length));
      const details = shown.map((r) =>
        formatDisagreement(r.loaded.spec, mode, r.ours, r.loaded.taskflow[mode], r.verdict),
      );
      const more = bad.length - shown.length;
      assert.fail(
        `${summary}\n\n${details.join('\n\n')}${more > 0 ? `\n\n... and ${more} more (scripts/differential/report.ts lists them all)` : ''}`,
      );
    });
  }
});
