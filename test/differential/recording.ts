import { readFileSync } from 'node:fs';
import { GENERATOR_VERSION, generateCase, specHash } from './generator.ts';
import { PROBES } from './probes.ts';
import {
  type CaseSpec,
  MODES,
  type Mode,
  type Outcome,
  type RecordedCase,
  type Recording,
} from './spec.ts';

/** A recorded case with its spec regenerated from the seed. */
export interface LoadedCase {
  readonly spec: CaseSpec;
  readonly recorded: RecordedCase;
  /** For each mode, every distinct outcome TaskFlow produced, the first hash seed's first. */
  readonly taskflow: Readonly<Record<Mode, readonly Outcome[]>>;
  /** False when the generator no longer makes the spec TaskFlow ran (re-record). */
  readonly specMatches: boolean;
}

export interface LoadedRecording {
  readonly recording: Recording;
  readonly generatorMatches: boolean;
  readonly cases: readonly LoadedCase[];
}

/** The spec of a recorded case: a probe by its id, a random case from its seed. */
function specOf(recorded: RecordedCase): CaseSpec {
  if (recorded.seed >= 0) return generateCase(recorded.seed);
  const probe = PROBES.find((p) => p.id === recorded.id);
  if (!probe) throw new Error(`Recorded case ${recorded.id} is no longer in probes.ts: re-record.`);
  return probe;
}

/** Reads test/differential/recorded.json and regenerates every spec from its seed. */
export function loadRecording(): LoadedRecording {
  const recording = JSON.parse(
    readFileSync(new URL('./recorded.json', import.meta.url), 'utf8'),
  ) as Recording;
  return {
    recording,
    generatorMatches: recording.generatorVersion === GENERATOR_VERSION,
    cases: recording.cases.map((recorded) => {
      const spec = specOf(recorded);
      const taskflow = Object.fromEntries(
        MODES.map((mode) => [
          mode,
          recorded.taskflow[mode].map((i) => recorded.outcomes[i] as Outcome),
        ]),
      ) as Record<Mode, Outcome[]>;
      return { spec, recorded, taskflow, specMatches: specHash(spec) === recorded.specHash };
    }),
  };
}
