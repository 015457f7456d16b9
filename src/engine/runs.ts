import { TaskFlowError } from '../core/errors.ts';
import type { FlowRef } from '../core/flow-ref.ts';
import type { AtomDetail, FlowDetail } from '../persistence/model.ts';
import type { RunJournal } from '../persistence/ports.ts';
import { applyDetail } from './atom-detail-codec.ts';
import { type AtomRecord, newAtomRecord } from './atom-record.ts';
import { compile } from './compile.ts';
import { type PersistenceOptions, runsOf } from './durable-run.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { fetchAllOf, fetchOf } from './fetch.ts';
import type { FlowRegistry } from './flow-registry.ts';

// Persisted runs of registered flows: starting one, continuing one (after a crash, a suspend or
// a takeover), and reading its values. The engine, the conductor and the CLI all use these.

/** Options of {@link startRun} and {@link resumeRun}: engine options plus where the run lives. */
export interface RegisteredRunOptions extends Omit<EngineOptions, 'persistence' | 'store'> {
  /** The run store the run is written to. */
  readonly runs?: RunJournal;
  /** @deprecated Use `runs`; this spelling is read for one more release. */
  readonly store?: RunJournal;
  readonly registry: FlowRegistry;
  readonly persistence?: Omit<PersistenceOptions, 'runs' | 'store' | 'flowId' | 'factory'>;
}

/**
 * Creates an engine for a new persisted run of a registered flow.
 *
 * @example
 * const engine = startRun('provision', { size: 10 }, { runs, registry, runId: 'order-42' });
 * await engine.run();
 */
export function startRun(
  factory: string,
  inputs: Readonly<Record<string, unknown>>,
  options: RegisteredRunOptions,
): Engine {
  const { runs: _runs, store: _store, registry, persistence, ...engineOptions } = options;
  return continueRun({
    ...engineOptions,
    registry,
    factory: registry.ref(factory),
    inputs,
    persistence: {
      ...persistence,
      runs: runsOf(options),
      ...(options.runId ? { flowId: options.runId } : {}),
    },
  });
}

/**
 * Rebuilds the flow of a persisted run from its registered factory and returns an engine that
 * continues it: what succeeded is not run again, what was running runs again, what was
 * reverting finishes reverting. The engine loads the run again once it holds the lease, so it
 * never continues from what this first read saw.
 *
 * @example
 * const { items } = await runs.listFlows({ unfinished: true });
 * for (const run of items) await (await resumeRun({ runs, registry, flowId: run.id })).run();
 */
export async function resumeRun(
  options: RegisteredRunOptions & { readonly flowId: string },
): Promise<Engine> {
  const { runs: _runs, store: _store, registry, persistence, flowId, ...engineOptions } = options;
  const runs = runsOf(options);
  const { loaded, factory } = await loadRebuildable(runs, flowId);
  // The factory and the store of a run never change once it is created, so this read is safe.
  return continueRun({
    ...engineOptions,
    registry,
    factory,
    inputs: loaded.flow.store,
    persistence: { ...persistence, runs, flowId },
  });
}

/**
 * The one way an engine for a persisted run is built, new or continued: the flow is rebuilt
 * from its registered factory with the run's inputs, and the engine, once run, takes the run's
 * lease (or, with `persistence.claim`, the job claim's), loads what earlier engines left and
 * goes on from there. `startRun`, `resumeRun` and the conductor all go through it.
 *
 * @example
 * const engine = continueRun({
 *   registry, factory: { name: 'provision', version: '1' }, inputs: { size: 10 },
 *   persistence: { runs, flowId: 'order-42' },
 * });
 * await engine.run();
 */
export function continueRun(
  options: Omit<EngineOptions, 'persistence' | 'store'> & {
    readonly registry: FlowRegistry;
    readonly factory: FlowRef;
    readonly inputs: Readonly<Record<string, unknown>>;
    readonly persistence: Omit<PersistenceOptions, 'factory'>;
  },
): Engine {
  const { registry, factory, inputs, persistence, ...engineOptions } = options;
  return new Engine(registry.build(factory, inputs), {
    ...engineOptions,
    store: inputs,
    persistence: { ...persistence, factory },
  });
}

/** The values of a persisted run, read as TaskFlow's storage does. */
export interface RunValues {
  /** One symbol's value (a list when several places provide it); throws `NOT_FOUND` when none. */
  fetch(name: string): unknown;
  /** Every readable symbol's value. */
  fetchAll(): Record<string, unknown>;
}

/**
 * Reads a persisted run's values without running or leasing it: the flow is rebuilt from its
 * registered factory to learn what each atom provides, and the stored atom details fill it in.
 *
 * @example
 * const values = await fetchRun({ runs, registry, flowId: 'order-42' });
 * console.log(values.fetch('volumeId'), values.fetchAll());
 */
export async function fetchRun(options: {
  readonly runs: Pick<RunJournal, 'loadRun'>;
  readonly registry: FlowRegistry;
  readonly flowId: string;
}): Promise<RunValues> {
  const { loaded, factory } = await loadRebuildable(options.runs, options.flowId);
  const graph = compile(options.registry.build(factory, loaded.flow.store));
  const byName = new Map<string, AtomRecord>();
  for (const index of graph.atoms) {
    const atom = graph.nodes[index]?.atom;
    if (atom) byName.set(atom.name, newAtomRecord(index, atom));
  }
  for (const detail of loaded.atoms) {
    const record = byName.get(detail.name);
    if (record) applyDetail(record, detail, true);
  }
  const records = [...byName.values()];
  const store = loaded.flow.store;
  return {
    fetch: (name) => fetchOf(records, store, name),
    fetchAll: () => fetchAllOf(records, store),
  };
}

/** A stored run and the factory it recorded, so that its flow can be built again here. */
async function loadRebuildable(
  runs: Pick<RunJournal, 'loadRun'>,
  flowId: string,
): Promise<{ loaded: { flow: FlowDetail; atoms: AtomDetail[] }; factory: FlowRef }> {
  const loaded = await runs.loadRun(flowId);
  if (!loaded) {
    throw new TaskFlowError(
      'RUN_NOT_FOUND',
      `No run with id "${flowId}" is stored; list runs to find its id.`,
    );
  }
  const { factory } = loaded.flow;
  if (!factory) {
    throw new TaskFlowError(
      'NO_FACTORY',
      `Run "${flowId}" did not record a flow factory, so it cannot be rebuilt here; start runs with startRun() or the "factory" persistence option.`,
    );
  }
  return { loaded, factory };
}

/** @deprecated Use {@link RegisteredRunOptions}; this name is kept for one more release. */
export type DurableRunOptions = RegisteredRunOptions;
