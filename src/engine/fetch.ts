import { TaskFlowError } from '../core/errors.ts';
import { Failure } from '../core/failure.ts';
import type { RunReader } from '../persistence/ports.ts';
import { applyDetail } from './atom-detail-codec.ts';
import type { AtomRecord } from './atom-record.ts';
import { newAtomRecord } from './atom-record.ts';
import { compile } from './compile.ts';
import type { FlowRegistry } from './flow-registry.ts';

/**
 * Every symbol's current value, read as TaskFlow's `storage.fetch_all()` does: what each atom
 * that succeeded provides, the `Failure` of an atom that failed (for each symbol it would have
 * provided), and the store's values. A reverted atom's result is no longer readable. A symbol
 * readable from several places maps to a list of its values: producers in definition order,
 * then the store.
 */
export function fetchAllOf(
  records: readonly AtomRecord[],
  store: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const values = new Map<string, unknown[]>();
  const add = (symbol: string, value: unknown): void => {
    const list = values.get(symbol);
    if (list) list.push(value);
    else values.set(symbol, [value]);
  };
  for (const record of records) {
    const { atom } = record;
    if (record.state === 'SUCCESS' && record.hasResult) {
      for (const symbol of atom.providedSymbols) add(symbol, readValue(record, symbol));
    } else if (record.failure && (record.state === 'FAILURE' || record.state === 'REVERTED')) {
      for (const symbol of atom.providedSymbols) add(symbol, record.failure);
    }
  }
  for (const symbol of Object.keys(store)) add(symbol, store[symbol]);
  const all: Record<string, unknown> = Object.create(null);
  for (const [symbol, list] of values) all[symbol] = list.length === 1 ? list[0] : list;
  return all;
}

/** One symbol of {@link fetchAllOf}; throws `NOT_FOUND` naming the readable symbols when absent. */
export function fetchOf(
  records: readonly AtomRecord[],
  store: Readonly<Record<string, unknown>>,
  name: string,
): unknown {
  const all = fetchAllOf(records, store);
  if (Object.hasOwn(all, name)) return all[name];
  const known =
    Object.keys(all)
      .map((symbol) => `"${symbol}"`)
      .join(', ') || 'none';
  throw new TaskFlowError(
    'NOT_FOUND',
    `No readable value named "${name}" (readable now: ${known}); it is provided by no atom that succeeded or failed and is not in the store.`,
  );
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
  readonly runs: Pick<RunReader, 'loadRun'>;
  readonly registry: FlowRegistry;
  readonly flowId: string;
}): Promise<RunValues> {
  const loaded = await options.runs.loadRun(options.flowId);
  if (!loaded) {
    throw new TaskFlowError(
      'RUN_NOT_FOUND',
      `No run with id "${options.flowId}" is stored; list runs to find its id.`,
    );
  }
  const { factory } = loaded.flow;
  if (!factory) {
    throw new TaskFlowError(
      'NO_FACTORY',
      `Run "${options.flowId}" did not record a flow factory, so what its atoms provide is unknown here.`,
    );
  }
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

function readValue(record: AtomRecord, symbol: string): unknown {
  try {
    return record.atom.valueOf(symbol, record.result);
  } catch (error) {
    return Failure.from(error);
  }
}
