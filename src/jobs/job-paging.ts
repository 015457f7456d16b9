import {
  type Cursor,
  checkPageLimit,
  DEFAULT_PAGE_LIMIT,
  MAX_PAGE_LIMIT,
  parseCursor,
} from '../drivers/cursor-paging.ts';
import { JobBoardError } from './job-board-error.ts';

/** Parses a job listing's `after` string; undefined stays undefined. */
export function decodeJobCursor(after: string | undefined): Cursor | undefined {
  return parseCursor(
    after,
    (bad) =>
      new JobBoardError(
        'INVALID_ARGUMENT',
        `Job paging cursor ${JSON.stringify(bad)} is not one this board made; pass back the "next" value of the previous page unchanged.`,
      ),
  );
}

/** The page size of a job listing: `limit` when it is a whole number in 1..1000, else 100. */
export function jobPageLimit(limit: number | undefined): number {
  return checkPageLimit(
    limit,
    (bad) =>
      new JobBoardError(
        'INVALID_ARGUMENT',
        `Job page limit ${String(bad)} is invalid; pass a whole number from 1 to ${MAX_PAGE_LIMIT}, or omit it for ${DEFAULT_PAGE_LIMIT}.`,
      ),
  );
}
