import type { Page } from '../core/page.ts';

// Keyset paging shared by every listing (runs, logbooks, jobs): items are ordered by creation
// time, then id, and a page's `next` is the opaque position of its last item. Callers word the
// refusals, so each listing reports them with its own error class.

/** An item's position in listing order. */
export interface Cursor {
  readonly createdAt: number;
  readonly id: string;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;

/** The opaque `next`/`after` string of a cursor. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

/**
 * Parses an `after` string made by {@link encodeCursor}; undefined stays undefined. Anything
 * else is thrown as `refuse` words it.
 */
export function parseCursor(
  after: string | undefined,
  refuse: (after: string) => Error,
): Cursor | undefined {
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
  throw refuse(after);
}

/**
 * The page size to use: `limit` when it is a whole number in 1..{@link MAX_PAGE_LIMIT}, the
 * default when absent; anything else is thrown as `refuse` words it.
 */
export function checkPageLimit(
  limit: number | undefined,
  refuse: (limit: number) => Error,
): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE_LIMIT) return limit;
  throw refuse(limit);
}

/** Builds a page from up to `limit + 1` items fetched in listing order. */
export function toPage<T extends Cursor>(items: readonly T[], limit: number): Page<T> {
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page,
    next: items.length > limit && last !== undefined ? encodeCursor(last) : undefined,
  };
}

/** The same page with each item turned by `map` (e.g. a stored row decoded into a record). */
export function mapPage<T, U>(page: Page<T>, map: (item: T) => U): Page<U> {
  return { items: page.items.map(map), next: page.next };
}

/** A page of items held in memory: those after `after` in listing order, at most `limit`. */
export function pageInMemory<T extends Cursor>(
  items: Iterable<T>,
  after: Cursor | undefined,
  limit: number,
): Page<T> {
  const rows = [...items].filter((item) => isAfter(item, after)).sort(byPosition);
  return toPage(rows.slice(0, limit + 1), limit);
}

/** True when `item` comes after `cursor` in listing order. */
export function isAfter(item: Cursor, cursor: Cursor | undefined): boolean {
  if (cursor === undefined) return true;
  return (
    item.createdAt > cursor.createdAt ||
    (item.createdAt === cursor.createdAt && item.id > cursor.id)
  );
}

function byPosition(a: Cursor, b: Cursor): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
