/**
 * Runs one or more specs through Python TaskFlow and our engine right now and prints how they
 * compare: handy to check a fix, or to try a hand-written spec (see test/differential/spec.ts).
 *
 *   node --import tsx scripts/differential/try.ts --seed 45 [--seed 218 ...]
 *   node --import tsx scripts/differential/try.ts specs.json      (a JSON array of case specs)
 *
 * Options: --mode subflow|enclosing (default both), --hash-seeds 0-4 (TaskFlow runs per spec).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOurs } from '../../test/differential/build.ts';
import { compareOutcome, formatDisagreement } from '../../test/differential/compare.ts';
import { generateCase } from '../../test/differential/generator.ts';
import { type CaseSpec, MODES, type Mode, type Outcome } from '../../test/differential/spec.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const values = (name: string): string[] =>
  args.flatMap((arg, i) =>
    arg === name && args[i + 1] !== undefined ? [args[i + 1] as string] : [],
  );
const files = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));

const specs: CaseSpec[] = [
  ...values('--seed').map((seed) => generateCase(Number(seed))),
  ...files.flatMap((file) => JSON.parse(readFileSync(file, 'utf8')) as CaseSpec[]),
];
const modes = values('--mode').length > 0 ? (values('--mode') as Mode[]) : MODES;
const [lo, hi] = (values('--hash-seeds')[0] ?? '0-4').split('-').map(Number) as [number, number?];
const hashSeeds = Array.from({ length: (hi ?? lo) - lo + 1 }, (_, i) => lo + i);

const work = mkdtempSync(join(tmpdir(), 'taskflow-try-'));
try {
  const specsFile = join(work, 'specs.json');
  writeFileSync(specsFile, JSON.stringify(specs));
  const runs = hashSeeds.map((hashSeed) => {
    const out = join(work, `out-${hashSeed}.json`);
    const run = spawnSync('/usr/bin/python3', [join(here, 'taskflow_driver.py'), specsFile, out], {
      stdio: 'inherit',
      env: { ...process.env, PYTHONHASHSEED: String(hashSeed) },
    });
    if (run.status !== 0) throw new Error(`The TaskFlow driver exited with ${run.status}.`);
    return JSON.parse(readFileSync(out, 'utf8')) as { outcomes: Record<Mode, Outcome>[] };
  });
  for (const [i, spec] of specs.entries()) {
    for (const mode of modes) {
      const variants = new Map<string, Outcome>();
      for (const run of runs) {
        const outcome = run.outcomes[i]?.[mode] as Outcome;
        variants.set(JSON.stringify(outcome), outcome);
      }
      const taskflow = [...variants.values()];
      const ours = await runOurs(spec, mode);
      const verdict = compareOutcome(spec, ours, taskflow);
      console.log(
        verdict.agree
          ? `=== ${spec.id} (${mode}) agrees${verdict.allowed.map((a) => `; allowed ${a.rule}`).join('')}`
          : formatDisagreement(spec, mode, ours, taskflow, verdict),
      );
      if (!verdict.agree) console.log(`ours in full: ${JSON.stringify(ours)}`);
      console.log();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
