/**
 * Runs the recorded differential cases with our engine and prints every disagreement, grouped
 * by where the call logs first part and which fields differ, smallest case of each group first.
 *
 *   node --import tsx scripts/differential/report.ts [--mode subflow|enclosing] [--all] [--case seed-12]
 *
 * Without --all only the smallest case of each group is printed in full.
 */
import { runOurs } from '../../test/differential/build.ts';
import {
  categorise,
  compareOutcome,
  formatDisagreement,
  type Verdict,
} from '../../test/differential/compare.ts';
import { type LoadedCase, loadRecording } from '../../test/differential/recording.ts';
import { MODES, type Mode, type Outcome } from '../../test/differential/spec.ts';

const { cases } = loadRecording();

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const modes = option('--mode') ? [option('--mode') as Mode] : MODES;
const only = option('--case');
const all = process.argv.includes('--all');

interface Row {
  readonly loaded: LoadedCase;
  readonly mode: Mode;
  readonly ours: Outcome;
  readonly verdict: Verdict;
  readonly group: string;
}

const rows: Row[] = [];
let total = 0;
for (const mode of modes) {
  for (const loaded of cases) {
    if (only && loaded.spec.id !== only) continue;
    if (!loaded.specMatches)
      throw new Error(`${loaded.spec.id} changed since recorded: re-record.`);
    total++;
    const ours = await runOurs(loaded.spec, mode);
    const verdict = compareOutcome(loaded.spec, ours, loaded.taskflow[mode]);
    if (verdict.agree) continue;
    const tf = loaded.taskflow[mode][verdict.variant] as Outcome;
    rows.push({ loaded, mode, ours, verdict, group: categorise(verdict, tf, ours) });
  }
}

const groups = new Map<string, Row[]>();
for (const row of rows) groups.set(row.group, [...(groups.get(row.group) ?? []), row]);
const size = (r: Row): number =>
  r.ours.calls.length + (r.loaded.taskflow[r.mode][r.verdict.variant]?.calls.length ?? 0);
console.log(`${total} runs, ${total - rows.length} agree, ${rows.length} disagree.\n`);
for (const [group, members] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
  members.sort((a, b) => size(a) - size(b));
  console.log(`##### ${members.length} × ${group}`);
  console.log(`cases: ${members.map((m) => `${m.loaded.spec.id}/${m.mode}`).join(' ')}\n`);
  for (const m of all ? members : members.slice(0, 1)) {
    console.log(
      formatDisagreement(m.loaded.spec, m.mode, m.ours, m.loaded.taskflow[m.mode], m.verdict),
    );
    console.log();
  }
}
