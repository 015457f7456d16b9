import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.ts';
import {
  RunCancelledError,
  StateError,
  TaskFlowError,
  ValidationError,
  type ValidationIssue,
} from '../core/errors.ts';
import { Failure, failureToThrow } from '../core/failure.ts';
import { findJsonProblem } from '../core/json-safety.ts';
import type { OperatorRequest } from '../core/operator-request.ts';
import { type FlowState, isLegalFlowTransition } from '../core/states.ts';
import type { Task } from '../core/task.ts';
import type { Flow } from '../patterns/flow.ts';
import {
  type AtomRecord,
  type AtomSnapshot,
  clearAtomRecord,
  newAtomRecord,
  snapshotOf,
} from './atom-record.ts';
import { compile } from './compile.ts';
import { PersistedRun, type PersistenceOptions } from './durable-run.ts';
import { EventBus, type Listener } from './events.ts';
import { type Executor, Executors } from './executor.ts';
import { fetchAllOf, fetchOf } from './fetch.ts';
import {
  actsWhileRunning,
  checkOperatorRequest,
  editStoppedRun,
  refusalOf,
} from './operator-actions.ts';
import { ProviderIndex } from './providers.ts';
import type { Checkpoint, RevertOrder, RevertScope, RunContext } from './run-context.ts';
import { Runner } from './runner.ts';
import { type EngineStatistics, newStatistics } from './statistics.ts';
import { validateFlow } from './validate.ts';

/**
 * Options of an {@link Engine}; every one is optional.
 *
 * @example
 * new Engine(flow, { store: { size: 10 }, concurrency: 4, persistence: { runs } });
 */
export interface EngineOptions {
  /** Values given to the run from outside; producers inside the flow take precedence. */
  readonly store?: Readonly<Record<string, unknown>>;
  /** How many atoms may run at the same time; 1 (the default) runs one at a time. */
  readonly concurrency?: number;
  /**
   * What a nested retry's REVERT does: 'enclosing' (default) lets the enclosing retry decide,
   * reverting everything when there is none; 'subflow' is TaskFlow's default, which reverts
   * only that retry's flow and leaves the atoms outside it as they are.
   */
  readonly revertScope?: RevertScope;
  /** Stop at the first failure without reverting anything (TaskFlow's `never_resolve`). */
  readonly haltOnFailure?: boolean;
  /**
   * Resolve a failure as soon as it happens, so that no atom its resolution will revert starts
   * afterwards (default true). `false` is TaskFlow's serial behaviour: the other atoms of the
   * step the failure happened in still run (and are then reverted); see docs/semantics.md.
   */
  readonly failFast?: boolean;
  /**
   * Among atoms ready to revert at the same moment, which goes first: 'newest-first' (the
   * default: reverse completion order, the same whether or not the run was interrupted) or
   * 'priority' (TaskFlow's serial order). Either way an atom reverts after its dependents.
   */
  readonly revertOrder?: RevertOrder;
  readonly listeners?: readonly Listener[];
  /** Receives errors that must not break the run: throwing listeners, deciders, retry decisions. */
  readonly onError?: (error: unknown) => void;
  readonly clock?: Clock;
  /** Source of randomness for backoff jitter; `Math.random` by default. */
  readonly random?: () => number;
  /** Identifies this run; part of every idempotency key. A random UUID by default. */
  readonly runId?: string;
  /**
   * Persist every state change to a run store, so that a new engine (in another process) can
   * continue the run. Without it the run lives in memory only.
   */
  readonly persistence?: PersistenceOptions;
  /** Where tasks' code runs unless they say otherwise; in the engine's process by default. */
  readonly executor?: Executor;
  /**
   * Executors by name, for tasks that choose one with `runsOn` (e.g. `{ threads: new
   * ThreadExecutor({ tasks: './tasks.ts' }) }`); a `runsOn` naming none is a validation error.
   */
  readonly executors?: Readonly<Record<string, Executor>>;
}

type Compiled = Pick<RunContext, 'graph' | 'providers' | 'argumentProviders'> & {
  readonly records: (AtomRecord | undefined)[];
};

/** What a run that did not fail returns. */
export interface RunResult {
  readonly state: Extract<FlowState, 'SUCCESS' | 'SUSPENDED'>;
  /** Every symbol the flow provides, as visible when first read (computed on demand: large flows pay only if asked). */
  readonly outputs: Record<string, unknown>;
}

/**
 * Runs one flow: compiles and validates it, executes its atoms feeding each its inputs,
 * reverts what ran when something fails, retries where told, and can be suspended and run again.
 * `run()` rejects with the original error of a failed run (a `WrappedFailure` when several atoms failed).
 *
 * @example
 * const engine = new Engine(linearFlow('deploy', [createVolume, bootServer]), { store: { size: 10 } });
 * const { outputs } = await engine.run();
 */
export class Engine {
  readonly flow: Flow;
  #store: Readonly<Record<string, unknown>>;
  readonly #durable: PersistedRun | undefined;
  /** suspend() came while run() was opening the run: it goes SUSPENDING as soon as it runs. */
  #suspendAsked = false;
  /** Operator requests waiting for run() to open the run (see {@link Engine.apply}). */
  readonly #requests: OperatorRequest[] = [];
  /** True from the moment run() has opened the run until it returns. */
  #opened = false;
  readonly #bus: EventBus;
  readonly #context: Omit<RunContext, 'graph' | 'providers' | 'records' | 'argumentProviders'>;
  #compiled: Compiled | undefined;
  #state: FlowState = 'PENDING';
  #runner: Runner | undefined;
  readonly #statistics: EngineStatistics = newStatistics();

  constructor(flow: Flow, options: EngineOptions = {}) {
    const concurrency = options.concurrency ?? 1;
    if (!(concurrency >= 1)) {
      throw new StateError(
        `Engine option "concurrency" is ${concurrency}; use a number of at least 1 (1 runs atoms one at a time).`,
      );
    }
    this.flow = flow;
    this.#store = { ...(options.store ?? {}) };
    const runId = options.persistence?.flowId ?? options.runId ?? randomUUID();
    const clock = options.clock ?? systemClock;
    this.#durable = options.persistence
      ? new PersistedRun(options.persistence, runId, clock)
      : undefined;
    const durable = this.#durable;
    const reportError =
      options.onError ??
      ((error: unknown) => process.emitWarning(error instanceof Error ? error : String(error)));
    this.#bus = new EventBus(reportError);
    for (const listener of options.listeners ?? []) this.#bus.subscribe(listener);
    this.#context = {
      store: this.#store,
      bus: this.#bus,
      clock,
      random: options.random ?? Math.random,
      concurrency,
      revertScope: options.revertScope ?? 'enclosing',
      haltOnFailure: options.haltOnFailure === true,
      failFast: options.failFast !== false,
      revertOrder: options.revertOrder ?? 'newest-first',
      runId,
      statistics: this.#statistics,
      reportError,
      checkpoint: durable ? durableCheckpoint(durable) : IN_MEMORY,
      executors: new Executors(options, clock),
    };
  }

  /** This run's id: the flow detail id when persisted, and the prefix of every idempotency key. */
  get runId(): string {
    return this.#context.runId;
  }

  get state(): FlowState {
    return this.#state;
  }

  get statistics(): Readonly<EngineStatistics> {
    return this.#statistics;
  }

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: Listener): () => void {
    return this.#bus.subscribe(listener);
  }

  /**
   * Compiles and validates the flow against the store. Throws a {@link ValidationError} listing
   * every problem. `run()` does this by itself; call it to fail early.
   */
  compile(): void {
    if (this.#compiled) return;
    let started = performance.now();
    const graph = compile(this.flow);
    this.#statistics.compileMs = performance.now() - started;
    started = performance.now();
    const providers = new ProviderIndex(graph);
    const validated = validateFlow(graph, providers, this.#store);
    const { argumentProviders } = validated;
    const issues = [...validated.issues, ...unknownExecutors(graph, this.#context.executors)];
    this.#statistics.validateMs = performance.now() - started;
    if (issues.length > 0) throw new ValidationError(issues);
    const records = graph.nodes.map((node) =>
      node.atom ? newAtomRecord(node.index, node.atom) : undefined,
    );
    this.#compiled = { graph, providers, records, argumentProviders };
  }

  /**
   * Runs the flow to its end, or until suspended. Resolves with the outputs when it succeeds or
   * is suspended; rejects with the original error when it is reverted or fails.
   * A flow that already succeeded is not run again until {@link Engine.reset}. A persisted run
   * that ended REVERTED is final too: `run()` rejects with its failure again, and only
   * `reset()` (an operator's decision) runs it anew; in memory, `run()` resets it by itself.
   *
   * With `stopOnSignals`, SIGTERM or SIGINT suspends the run while it runs: atoms in flight
   * finish, the lease is released (so another process may continue at once rather than after
   * the lease TTL) and `run()` resolves SUSPENDED; the process can then exit.
   *
   * @example
   * const { state } = await engine.run({ stopOnSignals: true });
   * if (state === 'SUSPENDED') process.exitCode = 0; // continue later with resumeRun
   */
  async run(options: { readonly stopOnSignals?: boolean } = {}): Promise<RunResult> {
    if (this.#runner)
      throw new StateError(
        `Flow "${this.flow.name}" is already running in this engine; wait for run() to finish.`,
      );
    this.compile();
    const started = performance.now();
    const runner = new Runner({
      ...this.#context,
      store: this.#store,
      ...(this.#compiled as Compiled),
    });
    this.#runner = runner;
    const stop = (): void => this.suspend();
    if (options.stopOnSignals) {
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    }
    try {
      await this.#open(() => runner.suspend());
      this.#opened = true;
      const requests = this.#requests.splice(0);
      for (const request of requests) this.#applyNow(request, runner);
      // What the requests changed is stored before anything runs, or even if nothing will.
      if (requests.length > 0) await this.#durable?.flush();
      if (this.#state === 'SUCCESS') return this.#result('SUCCESS');
      if (this.#state === 'REVERTED') {
        if (this.#durable) throw failureToThrow(this.#recordedFailures());
        this.#clearRecords();
        this.#setState('PENDING');
      }
      this.#setState('RUNNING');
      if (this.#suspendAsked) this.#setState('SUSPENDING');
      const end = await runner.run();
      if (this.#durable?.lost !== undefined) throw this.#durable.lost;
      const before = this.#state;
      this.#setState(end.state);
      try {
        // The last atom states, the flow's end and the lease's release: one write.
        await runner.finish({ release: true });
      } catch (error) {
        // The end is not stored: the engine must not report a state a new process would not find.
        this.#state = before;
        throw error;
      }
      if (end.state === 'REVERTED' || end.state === 'FAILURE') throw failureToThrow(end.failures);
      return this.#result(end.state);
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      this.#runner = undefined;
      this.#opened = false;
      this.#suspendAsked = false;
      await this.#durable?.close();
      this.#statistics.runMs += performance.now() - started;
    }
  }

  /** Takes the lease and loads what earlier engines persisted for this run, every time. */
  async #open(onLost: (error: unknown) => void): Promise<void> {
    const durable = this.#durable;
    if (!durable) return;
    const loaded = await durable.open(this.flow.name, this.#store, this.#records(), onLost);
    this.#store = loaded.store;
    // A run found RUNNING or SUSPENDING was interrupted: it resumes.
    const interrupted =
      loaded.state === 'RUNNING' || loaded.state === 'SUSPENDING' || loaded.state === 'RESUMING';
    this.#state = interrupted ? 'RESUMING' : loaded.state;
  }

  #recordedFailures(): Failure[] {
    const failures = this.#records().flatMap((record) => (record.failure ? [record.failure] : []));
    if (failures.length > 0) return failures;
    return [
      Failure.from(
        new StateError(`Flow "${this.flow.name}" ended REVERTED; reset() it to run it again.`),
      ),
    ];
  }

  /**
   * Stops starting new atoms; those running finish and the run resolves SUSPENDED. Called while
   * `run()` is still opening the run, it starts no atom at all.
   */
  suspend(): void {
    if (!this.#runner || this.#state === 'SUSPENDING') return;
    this.#runner.suspend();
    if (this.#state === 'RUNNING') this.#setState('SUSPENDING');
    else this.#suspendAsked = true;
  }

  /**
   * Applies an operator's request (see {@link OperatorRequest}) and, for a persisted run,
   * records it in the run's audit list (`meta.actions`, with when it was applied, or why it
   * was refused). `suspend` and `cancel` act on the run in progress; on an engine that is not
   * running, every request waits for the next `run()`, which applies it right after loading the
   * run: `redrive`, `retry-revert`, `skip-revert` and `resolve` change a stopped run's atoms
   * there, before anything runs. A request the run's state does not allow is refused (recorded
   * as such) and changes nothing; the conductor and the service check first, so this happens
   * only when the run moved on meanwhile.
   *
   * @example
   * engine.apply(operatorRequest('redrive', { by: 'alice' }));
   * await engine.run(); // the failed atoms run again; what succeeded is kept
   */
  apply(request: OperatorRequest): void {
    checkOperatorRequest(request);
    const runner = this.#runner;
    if (runner && this.#opened) {
      if (!actsWhileRunning(request.action)) {
        throw new StateError(
          `Flow "${this.flow.name}" is running; "${request.action}" applies to a stopped run: cancel it without revert or wait for it to end, then apply it before the next run().`,
        );
      }
      this.#applyNow(request, runner);
      return;
    }
    this.#requests.push(request);
  }

  #applyNow(request: OperatorRequest, runner: Runner): void {
    const records = this.#records();
    const byName = (name: string): AtomRecord | undefined => {
      const index = this.#compiled?.graph.byName.get(name);
      return index === undefined ? undefined : this.#compiled?.records[index];
    };
    const refused = refusalOf(request, this.flow.name, this.#state, byName);
    this.#durable?.recordAction({
      ...request,
      appliedAt: this.#context.clock.now(),
      ...(refused === undefined ? {} : { refused }),
    });
    if (refused !== undefined) {
      this.#context.reportError(new StateError(`Operator request refused: ${refused}`));
      return;
    }
    switch (request.action) {
      case 'suspend':
        this.suspend();
        return;
      case 'cancel':
        runner.cancel(
          Failure.from(new RunCancelledError(request.by, request.reason)),
          request.revert !== false,
        );
        return;
      case 'resume':
        return;
      default:
        editStoppedRun(request, records, byName, (record) =>
          this.#context.checkpoint.stage(record),
        );
        if (request.action === 'redrive') this.#setState('PENDING');
    }
  }

  /** Returns a finished, failed or suspended flow to PENDING so it can run again from the start. */
  async reset(): Promise<void> {
    if (this.#runner) {
      throw new StateError(
        `Flow "${this.flow.name}" is running; suspend it and wait for run() before resetting.`,
      );
    }
    this.compile();
    await this.#open(this.#context.reportError);
    try {
      this.#clearRecords();
      if (this.#state !== 'PENDING') this.#setState('PENDING');
      await this.#durable?.flush({ release: true });
    } finally {
      await this.#durable?.close();
    }
  }

  /** Every atom back to PENDING, staged and published. */
  #clearRecords(): void {
    for (const record of this.#records()) {
      if (record.state === 'PENDING') continue;
      const from = record.state;
      clearAtomRecord(record);
      record.history = [];
      this.#context.checkpoint.stage(record);
      if (this.#bus.active) {
        this.#bus.emit({
          type: 'atom',
          atom: record.atom.name,
          kind: record.atom.kind,
          from,
          to: 'PENDING',
        });
      }
    }
  }

  /** The current record of an atom, by name. */
  atom(name: string): AtomSnapshot {
    this.compile();
    const index = this.#compiled?.graph.byName.get(name);
    const record = index === undefined ? undefined : this.#compiled?.records[index];
    if (!record) throw new StateError(`Flow "${this.flow.name}" has no atom named "${name}".`);
    return snapshotOf(record);
  }

  /** Every atom's record, in definition order. */
  atoms(): AtomSnapshot[] {
    this.compile();
    return this.#records().map(snapshotOf);
  }

  /** Every symbol the flow provides, with the value visible at the end of the flow. */
  outputs(): Record<string, unknown> {
    this.compile();
    const { graph, providers, records } = this.#compiled as Compiled;
    // Built from entries so that a symbol named like an Object.prototype member is kept as one.
    const outputs: [string, unknown][] = [];
    for (const symbol of this.flow.provides) {
      for (const group of providers.exitGroups(graph.root, symbol)) {
        const record = group
          .map((i) => records[i])
          .find((r) => r?.state === 'SUCCESS' && r.hasResult);
        if (record) {
          outputs.push([symbol, record.atom.valueOf(symbol, record.result)]);
          break;
        }
      }
    }
    return Object.fromEntries(outputs);
  }

  /**
   * One symbol's current value, as TaskFlow's `storage.fetch`: a succeeded atom's result, a
   * failed atom's `Failure`, or a store value; a list when several are readable (see
   * {@link Engine.fetchAll}). Throws `NOT_FOUND` when none is.
   *
   * @example
   * await engine.run().catch(() => undefined);
   * const charge = engine.fetch('chargeId'); // a Failure if "charge" failed
   */
  fetch(name: string): unknown {
    this.compile();
    return fetchOf(this.#records(), this.#store, name);
  }

  /**
   * Every readable symbol's current value, as TaskFlow's `storage.fetch_all()`: results of
   * atoms that succeeded (a reverted atom's result is no longer readable), the `Failure` of
   * each atom that failed, and the store; a symbol readable from several places maps to a list.
   *
   * @example
   * const { volumeId, size } = engine.fetchAll();
   */
  fetchAll(): Record<string, unknown> {
    this.compile();
    return fetchAllOf(this.#records(), this.#store);
  }

  #result(state: RunResult['state']): RunResult {
    let outputs: Record<string, unknown> | undefined;
    const read = (): Record<string, unknown> => {
      outputs ??= this.outputs();
      return outputs;
    };
    return {
      state,
      get outputs() {
        return read();
      },
    };
  }

  #records(): AtomRecord[] {
    const compiled = this.#compiled;
    if (!compiled) return [];
    return compiled.graph.atoms.map((i) => compiled.records[i] as AtomRecord);
  }

  /** Moves the flow to `to`; a persisted run writes it with its next checkpoint flush. */
  #setState(to: FlowState): void {
    const from = this.#state;
    if (from === to) return;
    if (!isLegalFlowTransition(from, to)) {
      throw new StateError(`Flow "${this.flow.name}" cannot move from ${from} to ${to}.`);
    }
    this.#state = to;
    if (this.#bus.active) {
      // While running, in order with the atoms' events (after the write, when persisted).
      const event = { type: 'flow', flow: this.flow.name, from, to } as const;
      if (this.#runner) this.#runner.publish(event);
      else this.#bus.emit(event);
    }
    this.#durable?.stageFlow(to);
  }
}

/** A task whose `runsOn` names no executor the engine was given. */
function unknownExecutors(
  graph: ReturnType<typeof compile>,
  executors: Executors,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const names = executors.names();
  for (const index of graph.atoms) {
    const atom = graph.nodes[index]?.atom;
    if (atom?.kind !== 'task') continue;
    const { runsOn } = atom as Task;
    if (runsOn === undefined || names.includes(runsOn)) continue;
    issues.push({
      code: 'UNKNOWN_EXECUTOR',
      atom: atom.name,
      message: `Task "${atom.name}" runs on executor "${runsOn}", which the engine was not given (executors: ${names.map((n) => `"${n}"`).join(', ') || 'none'}); pass it in the engine's "executors" option, or drop "runsOn".`,
    });
  }
  return issues;
}

/** The checkpoint of a run kept in memory: nothing to write, no lease to hold. */
const IN_MEMORY: Checkpoint = {
  durable: false,
  stage: () => undefined,
  flush: () => undefined,
  unstorable: () => undefined,
  admit: () => true,
  fence: () => undefined,
};

function durableCheckpoint(durable: PersistedRun): Checkpoint {
  return {
    durable: true,
    stage: (record) => durable.stage(record),
    flush: (options) => durable.flush(options),
    unstorable,
    admit: () => durable.admit(),
    fence: () => durable.fence(),
  };
}

/** Why a result cannot be persisted, as the error the producing task fails with. */
function unstorable(atom: string, value: unknown): Error | undefined {
  if (value === undefined) return undefined;
  const problem = findJsonProblem(value, 'result');
  if (!problem) return undefined;
  return new TaskFlowError(
    'NOT_SERIALIZABLE',
    `Atom "${atom}" returned a result that cannot be persisted: ${problem.path} ${problem.reason}`,
  );
}

/**
 * Runs a flow to its end and returns its outputs; rejects with the original error when it fails.
 *
 * @example
 * const { doubled } = await runFlow(linearFlow('math', [double]), { store: { size: 21 } });
 */
export async function runFlow(
  flow: Flow,
  options: EngineOptions = {},
): Promise<Record<string, unknown>> {
  const { outputs } = await new Engine(flow, options).run();
  return outputs;
}
