/**
 * The plain-JSON shapes shared by the differential test against Python TaskFlow: the random
 * flow specs (built identically by `taskflow_driver.py` and by `build.ts`) and the outcome of
 * one run, recorded the same way on both sides.
 */

/** When a task's execute (or revert) throws, by 1-based call count of that atom in the run. */
export type FailOn = readonly number[] | 'always';

export interface TaskSpec {
  readonly kind: 'task';
  readonly name: string;
  /** Distinct across all atoms of the case: TaskFlow breaks priority ties by object hash. */
  readonly priority: number;
  readonly requires: readonly string[];
  readonly provides?: string;
  readonly failOn: FailOn;
  readonly revertFailOn: FailOn;
}

export type RetryKind = 'times' | 'foreach' | 'pforeach' | 'always-revert' | 'always-revert-all';

export interface RetrySpec {
  readonly name: string;
  readonly type: RetryKind;
  readonly priority: number;
  readonly provides?: string;
  /** Times: total attempts. */
  readonly attempts?: number;
  /** ForEach: the values to try. */
  readonly values?: readonly (number | string)[];
  /** ParameterizedForEach: the store symbol its `values` argument is rebound to. */
  readonly valuesSymbol?: string;
  /** Times, ForEach, ParameterizedForEach: REVERT_ALL instead of REVERT once exhausted. */
  readonly revertAll?: boolean;
}

export type FlowType = 'linear' | 'unordered' | 'graph';

export interface FlowSpec {
  readonly kind: 'flow';
  readonly type: FlowType;
  readonly name: string;
  readonly children: readonly (FlowSpec | TaskSpec)[];
  readonly retry?: RetrySpec;
  /** Graph flows only: explicit links between children, by child name (always earlier → later). */
  readonly links?: readonly (readonly [string, string])[];
}

export interface CaseSpec {
  readonly id: string;
  /** -1 for a hand-written probe (probes.ts). */
  readonly seed: number;
  readonly store: Readonly<Record<string, readonly (number | string)[]>>;
  readonly flow: FlowSpec;
}

/** One attempt in a retry's history: the value it provided and the atoms whose failures it holds. */
export type HistoryEntry = readonly [provided: unknown, failed: readonly string[]];

export interface Decision {
  readonly retry: string;
  readonly decision: string;
  /** The history handed to `on_failure` / `onFailure`. */
  readonly history: readonly HistoryEntry[];
}

export interface Raised {
  /** True when several failures were reported together (WrappedFailure). */
  readonly wrapped: boolean;
  /** The messages of the reported failures, sorted. */
  readonly messages: readonly string[];
}

/** What one run did, as observed from outside the engine. */
export interface Outcome {
  /** "execute a" / "revert a" for tasks and retries, in call order. */
  readonly calls: readonly string[];
  readonly decisions: readonly Decision[];
  readonly flowState: string;
  readonly atoms: Readonly<Record<string, string>>;
  /** Results of the atoms that ended SUCCESS (null for an undefined/None result). */
  readonly results: Readonly<Record<string, unknown>>;
  /** Final history of every retry. */
  readonly histories: Readonly<Record<string, readonly HistoryEntry[]>>;
  /** What run raised; null when it returned. */
  readonly raised: Raised | null;
  /** Set when the run could not be observed normally (a timeout, a driver error). */
  readonly error?: string;
  /** Ours only, not compared: atom failures the tasks did not throw themselves (engine errors). */
  readonly notes?: readonly string[];
}

/** TaskFlow's `defer_reverts=False` ↔ our `revertScope: 'subflow'`; `True` ↔ our default. */
export type Mode = 'subflow' | 'enclosing';
export const MODES: readonly Mode[] = ['subflow', 'enclosing'];

/**
 * One recorded case. The spec itself is not stored (it is regenerated from the seed, or taken
 * from probes.ts for a probe, which keeps the recording small); its hash guards against a
 * generator or probe that changed since.
 */
export interface RecordedCase {
  readonly id: string;
  readonly seed: number;
  /** `specHash()` (generator.ts) of the spec TaskFlow ran. */
  readonly specHash: string;
  /** Every distinct outcome TaskFlow produced for the case, in either mode. */
  readonly outcomes: readonly Outcome[];
  /**
   * For each mode, the outcomes (indices into `outcomes`) TaskFlow produced under the recorded
   * hash seeds, the one of the first hash seed first: TaskFlow iterates sets of atoms (hashed
   * by string hash and object id), so its serial engine is not deterministic from process to
   * process.
   */
  readonly taskflow: Readonly<Record<Mode, readonly number[]>>;
}

export interface Recording {
  readonly generatorVersion: number;
  readonly taskflowVersion: string;
  readonly seeds: readonly number[];
  /** The PYTHONHASHSEED values TaskFlow was run under. */
  readonly hashSeeds: readonly number[];
  readonly cases: readonly RecordedCase[];
}

/** The message a task throws on its n-th execute / revert; both drivers use it verbatim. */
export const failureMessage = (name: string, phase: 'execute' | 'revert', n: number): string =>
  `${name} failed on ${phase} #${n}`;

export function fails(on: FailOn, n: number): boolean {
  return on === 'always' || on.includes(n);
}

/** A task's result: its name and the inputs it was given, e.g. `t3(s_t1=t1(),v_r1=2)`. */
export function taskResult(name: string, inputs: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(inputs).sort();
  return `${name}(${keys.map((k) => `${k}=${String(inputs[k])}`).join(',')})`;
}

/** Every atom of a spec (retries first within their flow), in definition order. */
export function atomsOf(flow: FlowSpec): (TaskSpec | RetrySpec)[] {
  const out: (TaskSpec | RetrySpec)[] = [];
  const walk = (f: FlowSpec): void => {
    if (f.retry) out.push(f.retry);
    for (const child of f.children) {
      if (child.kind === 'flow') walk(child);
      else out.push(child);
    }
  };
  walk(flow);
  return out;
}

export function isRetrySpec(atom: TaskSpec | RetrySpec): atom is RetrySpec {
  return !('kind' in atom);
}
