import type { Page } from '../core/page.ts';
import type { FlowState } from '../core/states.ts';
import {
  type Cursor,
  checkPageLimit,
  DEFAULT_PAGE_LIMIT,
  MAX_PAGE_LIMIT,
  mapPage,
  parseCursor,
  toPage,
} from '../drivers/cursor-paging.ts';

import { StorageError } from './storage-error.ts';

/** Flow states an operator looks at after a crash: everything but SUCCESS and REVERTED. */
export const FINISHED_FLOW_STATES: readonly FlowState[] = ['SUCCESS', 'REVERTED'];

/** Parses a run listing's `after` string; undefined stays undefined. */
export function decodeCursor(after: string | undefined): Cursor | undefined {
  return parseCursor(
    after,
    (bad) =>
      new StorageError(
        'INVALID_ARGUMENT',
        `Paging cursor ${JSON.stringify(bad)} is not one this store made; pass back the "next" value of the previous page unchanged.`,
      ),
  );
}

/** The page size of a run listing: `limit` when it is a whole number in 1..1000, else 100. */
export function pageLimit(limit: number | undefined): number {
  return checkPageLimit(
    limit,
    (bad) =>
      new StorageError(
        'INVALID_ARGUMENT',
        `Page limit ${String(bad)} is invalid; pass a whole number from 1 to ${MAX_PAGE_LIMIT}, or omit it for ${DEFAULT_PAGE_LIMIT}.`,
      ),
  );
}

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
