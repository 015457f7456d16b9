import type { Page } from '../core/page.ts';
import type { FlowState } from '../core/states.ts';
import { listingPaging, mapPage, toPage } from '../drivers/cursor-paging.ts';
import { invalidArgument } from './refusals.ts';

/** Flow states an operator looks at after a crash: everything but SUCCESS and REVERTED. */
export const FINISHED_FLOW_STATES: readonly FlowState[] = ['SUCCESS', 'REVERTED'];

const runPaging = listingPaging({ madeBy: 'this store', invalidArgument });

/** Parses a run listing's `after` string; undefined stays undefined. */
export const decodeCursor = runPaging.decodeCursor;

/** The page size of a run listing: `limit` when it is a whole number in 1..1000, else 100. */
export const pageLimit = runPaging.pageLimit;

/** A listing row of the SQL backends: a record's JSON and its position. */
export interface RecordRow {
  readonly id: string;
  readonly created_at: number;
  readonly record: string;
}

/** Builds a page of decoded records from up to `limit + 1` rows fetched in listing order. */
export function recordPage<T>(
  rows: readonly RecordRow[],
  limit: number,
  decode: (row: RecordRow) => T,
): Page<T> {
  const positioned = rows.map((row) => ({ ...row, createdAt: row.created_at }));
  return mapPage(toPage(positioned, limit), decode);
}
