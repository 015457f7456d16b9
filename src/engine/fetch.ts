import { TaskFlowError } from '../core/errors.ts';
import { Failure } from '../core/failure.ts';
import type { AtomRecord } from './atom-record.ts';

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
  return Object.fromEntries(
    [...values].map(([symbol, list]) => [symbol, list.length === 1 ? list[0] : list]),
  );
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

function readValue(record: AtomRecord, symbol: string): unknown {
  try {
    return record.atom.valueOf(symbol, record.result);
  } catch (error) {
    return Failure.from(error);
  }
}
