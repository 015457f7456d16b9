import { serverUrl, sqliteUrl, urlScheme } from './connection-url.ts';

/** Where a `sqlite://` or `postgres://` store URL points, for components sharing its database. */
export type StoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema?: string };

/**
 * The database of a run store URL, as `openRunStore` reads it: a SQLite file path (query
 * parameters dropped), or a PostgreSQL URL without its `schema` parameter and that schema.
 * Undefined for any other scheme (memory://, redis://) or a URL that cannot be parsed.
 *
 * @example
 * storeLocation('postgres://app@db/app?schema=tf'); // { kind: 'postgres', url: 'postgres://app@db/app', schema: 'tf' }
 */
export function storeLocation(url: string): StoreLocation | undefined {
  const scheme = urlScheme(url);
  const refuse = (message: string): Error => new Error(message);
  try {
    if (scheme === 'sqlite') return { kind: 'sqlite', path: sqliteUrl(url, refuse).path };
    if (scheme !== 'postgres' && scheme !== 'postgresql') return undefined;
    const server = serverUrl(url, 'schema', '', '', refuse);
    return {
      kind: 'postgres',
      url: server.url,
      ...(server.value === undefined ? {} : { schema: server.value }),
    };
  } catch {
    return undefined;
  }
}
