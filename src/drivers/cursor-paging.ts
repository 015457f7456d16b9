import type { Page } from '../core/page.ts';

// Keyset paging shared by every listing (runs, logbooks, jobs): items are ordered by creation
// time, then id, and a page's `next` is the opaque position of its last item. Each listing
// reports a bad cursor or limit with its own error class (see listingPaging).

/** An item's position in listing order. */
export interface Cursor {
  readonly createdAt: number;
  readonly id: string;
}

const DEFAULT_PAGE_LIMIT = 100;
const MAX_PAGE_LIMIT = 1000;

/** The opaque `next`/`after` string of a cursor. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

/** How one listing refuses a bad `after` or `limit`: who made its cursors, and its error. */
export interface PagingRefusals {
  /** Who makes the listing's cursors, for the message, e.g. `this board`, `this store`. */
  readonly madeBy: string;
  /** The listing's own INVALID_ARGUMENT error, with this message. */
  readonly invalidArgument: (message: string) => Error;
}

/** The paging checks of one listing, worded with its own error. */
export interface ListingPaging {
  /** Parses an `after` string made by {@link encodeCursor}; undefined stays undefined. */
  readonly decodeCursor: (after: string | undefined) => Cursor | undefined;
  /** `limit` when it is a whole number in 1..1000; 100 when absent. */
  readonly pageLimit: (limit: number | undefined) => number;
}

/**
 * The paging checks of a listing (runs, jobs), each refusing a bad value with the listing's
 * error and a message that says what to pass instead.
 *
 * @example
 * const { decodeCursor, pageLimit } = listingPaging({ madeBy: 'this store', invalidArgument });
 */
export function listingPaging(refusals: PagingRefusals): ListingPaging {
  return {
    decodeCursor: (after) => {
      if (after === undefined) return undefined;
      const cursor = parseCursor(after);
      if (cursor !== undefined) return cursor;
      throw refusals.invalidArgument(
        `Paging cursor ${JSON.stringify(after)} is not one ${refusals.madeBy} made; pass back the "next" value of the previous page unchanged.`,
      );
    },
    pageLimit: (limit) => {
      if (limit === undefined) return DEFAULT_PAGE_LIMIT;
      if (Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE_LIMIT) return limit;
      throw refusals.invalidArgument(
        `Page limit ${String(limit)} is invalid; pass a whole number from 1 to ${MAX_PAGE_LIMIT}, or omit it for ${DEFAULT_PAGE_LIMIT}.`,
      );
    },
  };
}

function parseCursor(after: string): Cursor | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
    return { createdAt: parsed[0], id: parsed[1] };
  }
  return undefined;
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
