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
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    const path = decodeURIComponent(url.slice('sqlite://'.length).split('?', 1)[0] ?? '');
    return path === '' ? undefined : { kind: 'sqlite', path };
  }
  if (scheme !== 'postgres' && scheme !== 'postgresql') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  return { kind: 'postgres', url: parsed.toString(), ...(schema === null ? {} : { schema }) };
}
