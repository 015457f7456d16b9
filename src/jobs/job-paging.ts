import { JobBoardError } from './job-board-error.ts';
import type { JobPage } from './ports.ts';

/** Jobs are listed by creation time, then id; a cursor is the last listed job's position. */
export interface JobCursor {
  readonly createdAt: number;
  readonly id: string;
}

export const DEFAULT_JOB_PAGE_LIMIT = 100;
export const MAX_JOB_PAGE_LIMIT = 1000;

/** The opaque `next`/`after` string of a cursor. */
export function encodeJobCursor(cursor: JobCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

/** Parses an `after` string made by {@link encodeJobCursor}; undefined stays undefined. */
export function decodeJobCursor(after: string | undefined): JobCursor | undefined {
  if (after === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
    return { createdAt: parsed[0], id: parsed[1] };
  }
  throw new JobBoardError(
    'INVALID_ARGUMENT',
    `Job paging cursor ${JSON.stringify(after)} is not one this board made; pass back the "next" value of the previous page unchanged.`,
  );
}

/** The page size: `limit` when it is a whole number in 1..1000, the default when absent. */
export function jobPageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_JOB_PAGE_LIMIT;
  if (Number.isInteger(limit) && limit >= 1 && limit <= MAX_JOB_PAGE_LIMIT) return limit;
  throw new JobBoardError(
    'INVALID_ARGUMENT',
    `Job page limit ${String(limit)} is invalid; pass a whole number from 1 to ${MAX_JOB_PAGE_LIMIT}, or omit it for ${DEFAULT_JOB_PAGE_LIMIT}.`,
  );
}

/** Builds a page from up to `limit + 1` items fetched in listing order. */
export function toJobPage<T extends JobCursor>(items: readonly T[], limit: number): JobPage<T> {
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page,
    next: items.length > limit && last !== undefined ? encodeJobCursor(last) : undefined,
  };
}

/** True when `item` comes after `cursor` in listing order. */
export function isAfterCursor(item: JobCursor, cursor: JobCursor | undefined): boolean {
  if (cursor === undefined) return true;
  return (
    item.createdAt > cursor.createdAt ||
    (item.createdAt === cursor.createdAt && item.id > cursor.id)
  );
}
