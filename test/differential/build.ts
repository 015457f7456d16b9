/**
 * Builds a differential spec with our public API and runs it, recording the same outcome
 * fields as `scripts/differential/taskflow_driver.py` records from TaskFlow.
 */
import {
  AlwaysRevert,
  AlwaysRevertAll,
  Engine,
  type Flow,
  type FlowChild,
  ForEach,
  graphFlow,
  type Inputs,
  type Listener,
  linearFlow,
  ParameterizedForEach,
  type Retry,
  type RetryDecision,
  type RetryHistory,
  type RevertScope,
  Times,
  task,
  unorderedFlow,
  WrappedFailure,
} from '../../src/index.ts';
import {
  atomsOf,
  type CaseSpec,
  type Decision,
  type FlowSpec,
  fails,
  failureMessage,
  type HistoryEntry,
  isRetrySpec,
  type Mode,
  type Outcome,
  type Raised,
  type RetrySpec,
  type TaskSpec,
  taskResult,
} from './spec.ts';

/** What the atoms of one run observed. */
export class Recorder {
  readonly calls: string[] = [];
  readonly decisions: Decision[] = [];
  readonly #counts = new Map<string, number>();

  count(name: string, phase: 'execute' | 'revert'): number {
    const key = `${phase} ${name}`;
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    return n;
  }

  decided(retry: string, history: RetryHistory, decision: RetryDecision): RetryDecision {
    this.decisions.push({ retry, decision, history: historyEntries(history) });
    return decision;
  }
}

export function historyEntries(history: RetryHistory): HistoryEntry[] {
  return history.map((attempt) => [
    attempt.result === undefined ? null : attempt.result,
    Object.keys(attempt.failures).sort(),
  ]);
}

function buildTask(spec: TaskSpec, rec: Recorder) {
  return task<Inputs, string>({
    name: spec.name,
    priority: spec.priority,
    requires: spec.requires,
    ...(spec.provides === undefined ? {} : { provides: spec.provides }),
    execute: (inputs) => {
      rec.calls.push(`execute ${spec.name}`);
      const n = rec.count(spec.name, 'execute');
      if (fails(spec.failOn, n)) throw new Error(failureMessage(spec.name, 'execute', n));
      return taskResult(spec.name, inputs);
    },
    revert: () => {
      rec.calls.push(`revert ${spec.name}`);
      const n = rec.count(spec.name, 'revert');
      if (fails(spec.revertFailOn, n)) throw new Error(failureMessage(spec.name, 'revert', n));
    },
  });
}

// Our built-in retries, with their calls and decisions logged; the decisions are theirs.

class LoggedTimes extends Times {
  rec!: Recorder;
  override execute(history: RetryHistory): number {
    this.rec.calls.push(`execute ${this.name}`);
    return super.execute(history);
  }
  override revert(): undefined {
    this.rec.calls.push(`revert ${this.name}`);
  }
  override onFailure(history: RetryHistory): RetryDecision {
    return this.rec.decided(this.name, history, super.onFailure(history));
  }
}

class LoggedForEach extends ForEach<number | string> {
  rec!: Recorder;
  override execute(history: RetryHistory): number | string {
    this.rec.calls.push(`execute ${this.name}`);
    return super.execute(history);
  }
  override revert(): undefined {
    this.rec.calls.push(`revert ${this.name}`);
  }
  override onFailure(history: RetryHistory): RetryDecision {
    return this.rec.decided(this.name, history, super.onFailure(history));
  }
}

type Values = { values: readonly (number | string)[] };

class LoggedParameterizedForEach extends ParameterizedForEach<number | string> {
  rec!: Recorder;
  override execute(history: RetryHistory, inputs: Values): number | string {
    this.rec.calls.push(`execute ${this.name}`);
    return super.execute(history, inputs);
  }
  override revert(): undefined {
    this.rec.calls.push(`revert ${this.name}`);
  }
  override onFailure(history: RetryHistory, inputs: Values): RetryDecision {
    return this.rec.decided(this.name, history, super.onFailure(history, inputs));
  }
}

class LoggedAlwaysRevert extends AlwaysRevert {
  rec!: Recorder;
  override execute(): undefined {
    this.rec.calls.push(`execute ${this.name}`);
    return super.execute();
  }
  override revert(): undefined {
    this.rec.calls.push(`revert ${this.name}`);
  }
  // The base class takes no arguments; the engine passes the history all the same.
  override onFailure(history?: RetryHistory): RetryDecision {
    return this.rec.decided(this.name, history ?? [], super.onFailure());
  }
}

class LoggedAlwaysRevertAll extends AlwaysRevertAll {
  rec!: Recorder;
  override execute(): undefined {
    this.rec.calls.push(`execute ${this.name}`);
    return super.execute();
  }
  override revert(): undefined {
    this.rec.calls.push(`revert ${this.name}`);
  }
  // The base class takes no arguments; the engine passes the history all the same.
  override onFailure(history?: RetryHistory): RetryDecision {
    return this.rec.decided(this.name, history ?? [], super.onFailure());
  }
}

function buildRetry(spec: RetrySpec, rec: Recorder): Retry {
  const common = {
    name: spec.name,
    priority: spec.priority,
    ...(spec.provides === undefined ? {} : { provides: spec.provides }),
  };
  const revertAll = spec.revertAll === true;
  let retry:
    | LoggedTimes
    | LoggedForEach
    | LoggedParameterizedForEach
    | LoggedAlwaysRevert
    | LoggedAlwaysRevertAll;
  switch (spec.type) {
    case 'times':
      retry = new LoggedTimes({ ...common, attempts: spec.attempts ?? 1, revertAll });
      break;
    case 'foreach':
      retry = new LoggedForEach({ ...common, values: spec.values ?? [], revertAll });
      break;
    case 'pforeach':
      retry = new LoggedParameterizedForEach({
        ...common,
        rebind: { values: spec.valuesSymbol as string },
        revertAll,
      });
      break;
    case 'always-revert':
      retry = new LoggedAlwaysRevert(common);
      break;
    case 'always-revert-all':
      retry = new LoggedAlwaysRevertAll(common);
      break;
  }
  retry.rec = rec;
  return retry as Retry;
}

export function buildFlow(spec: FlowSpec, rec: Recorder): Flow {
  const children: FlowChild[] = spec.children.map((child) =>
    child.kind === 'flow' ? buildFlow(child, rec) : buildTask(child, rec),
  );
  const retry = spec.retry ? buildRetry(spec.retry, rec) : undefined;
  const options = retry ? { retry } : {};
  switch (spec.type) {
    case 'linear':
      return linearFlow(spec.name, children, options);
    case 'unordered':
      return unorderedFlow(spec.name, children, options);
    case 'graph': {
      let flow = graphFlow(spec.name, children, options);
      for (const [from, to] of spec.links ?? []) flow = flow.link(from, to);
      return flow;
    }
  }
}

function describeRaised(error: unknown): Raised {
  if (error instanceof WrappedFailure)
    return { wrapped: true, messages: error.failures.map((f) => f.message).sort() };
  if (error instanceof Error) return { wrapped: false, messages: [error.message] };
  return { wrapped: false, messages: [String(error)] };
}

const TIMEOUT_MS = 5000;

/** Runs a case with our engine at concurrency 1; `mode` picks the revert scope. */
export async function runOurs(spec: CaseSpec, mode: Mode): Promise<Outcome> {
  const rec = new Recorder();
  const revertScope: RevertScope = mode;
  const engineErrors: string[] = [];
  const notes: string[] = [];
  const thrownByTask = /^\S+ failed on (execute|revert) #\d+$/;
  const listener: Listener = (event) => {
    if (event.type !== 'atom' || !event.failure || thrownByTask.test(event.failure.message)) return;
    notes.push(`${event.atom} ${event.to}: ${event.failure.type}: ${event.failure.message}`);
  };
  let raised: Raised | null = null;
  let error: string | undefined;
  let engine: Engine;
  try {
    engine = new Engine(buildFlow(spec.flow, rec), {
      concurrency: 1,
      revertScope,
      failFast: false,
      revertOrder: 'priority',
      store: spec.store,
      listeners: [listener],
      onError: (e) => engineErrors.push(e instanceof Error ? e.message : String(e)),
    });
  } catch (e) {
    return {
      calls: [],
      decisions: [],
      flowState: 'PENDING',
      atoms: {},
      results: {},
      histories: {},
      raised: null,
      error: `building the flow failed: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), TIMEOUT_MS);
  });
  try {
    const end = await Promise.race([engine.run(), timeout]);
    if (end === 'timeout') error = `run did not finish in ${TIMEOUT_MS} ms`;
  } catch (e) {
    raised = describeRaised(e);
  } finally {
    clearTimeout(timer);
  }
  if (engineErrors.length > 0)
    error = [error, ...engineErrors.map((m) => `onError: ${m}`)].filter(Boolean).join('; ');
  const atoms: Record<string, string> = {};
  const results: Record<string, unknown> = {};
  const histories: Record<string, HistoryEntry[]> = {};
  for (const atom of atomsOf(spec.flow)) {
    const snapshot = engine.atom(atom.name);
    atoms[atom.name] = snapshot.state;
    if (snapshot.state === 'SUCCESS')
      results[atom.name] = snapshot.result === undefined ? null : snapshot.result;
    if (isRetrySpec(atom)) histories[atom.name] = historyEntries(snapshot.history);
  }
  return {
    calls: rec.calls,
    decisions: rec.decisions,
    flowState: engine.state,
    atoms,
    results,
    histories,
    raised,
    ...(error === undefined ? {} : { error }),
    ...(notes.length === 0 ? {} : { notes }),
  };
}
