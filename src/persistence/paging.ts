import type { FlowState } from '../core/states.ts';
import type { Page } from './ports.ts';
import { StorageError } from './storage-error.ts';

/** Listings are ordered by creation time, then id; a cursor is the last item's position. */
export interface Cursor {
  readonly createdAt: number;
  readonly id: string;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

/** Flow states an operator looks at after a crash: everything but SUCCESS and REVERTED. */
export const FINISHED_FLOW_STATES: readonly FlowState[] = ['SUCCESS', 'REVERTED'];

/** The opaque `next`/`after` string of a cursor. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

/** Parses an `after` string made by {@link encodeCursor}; undefined stays undefined. */
export function decodeCursor(after: string | undefined): Cursor | undefined {
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
  throw new StorageError(
    'INVALID_ARGUMENT',
    `Paging cursor ${JSON.stringify(after)} is not one this store made; pass back the "next" value of the previous page unchanged.`,
  );
}

/** The page size to use: `limit` when it is a whole number in 1..1000, the default when absent. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE_LIMIT) return limit;
  throw new StorageError(
    'INVALID_ARGUMENT',
    `Page limit ${String(limit)} is invalid; pass a whole number from 1 to ${MAX_PAGE_LIMIT}, or omit it for ${DEFAULT_PAGE_LIMIT}.`,
  );
}

/** Builds a page from up to `limit + 1` rows fetched in listing order. */
export function toPage<T extends Cursor>(rows: readonly T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    next: rows.length > limit && last !== undefined ? encodeCursor(last) : undefined,
  };
}

/** True when `item` comes after `cursor` in listing order. */
export function isAfter(item: Cursor, cursor: Cursor | undefined): boolean {
  if (cursor === undefined) return true;
  return (
    item.createdAt > cursor.createdAt ||
    (item.createdAt === cursor.createdAt && item.id > cursor.id)
  );
}
