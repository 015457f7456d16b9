// The one place a connection URL is made safe to print: error messages, logs and `--json`
// output show the URL's scheme, user, host and path, never its password.

/** Query parameter names that carry a secret (`?password=`, `?sslpassword=`, `?token=`). */
const SECRET_NAME = /password|secret|token/i;
/** The same parameters found in text the URL parser could not read. */
const SECRET_PARAMETER_TEXT = /([?&][^=&#]*(?:password|secret|token)[^=&#]*=)[^&#]*/gi;

/**
 * The URL without its password, for messages: `postgres://app:s3cret@db/app` becomes
 * `postgres://app:***@db/app`, and secret query parameters (`password`, `token`, `secret`)
 * become `***` too.
 *
 * The WHATWG URL parser reads the user and password when it can. A password holding `/`, `?`
 * or `#` makes the parser read part of it as host, port, path or query, so its reading is
 * trusted only when it found the host right after the URL's last `@`; otherwise (and when the
 * URL cannot be parsed at all) everything between the user name's colon (or `//`) and the
 * last `@` is removed: `postgres://u:pa/ss@host/db` becomes `postgres://u:***@host/db`.
 * Removing too much is the safe direction; no part of the password reaches the result.
 *
 * @example
 * throw new Error(`PostgreSQL at ${redactUrl(url)} is unavailable`);
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('//');
  const last = url.lastIndexOf('@');
  const parsed = parseUrl(url);
  if (start < 0 || last < start) {
    // No user information: only query parameters can hold a secret.
    return parsed === undefined ? redactText(url) : redactParsed(parsed);
  }
  if (parsed !== undefined && hostFollows(url, last, parsed)) return redactParsed(parsed);
  return redactText(
    `${url.slice(0, start + 2)}${userOf(url.slice(start + 2, last))}***@${url.slice(last + 1)}`,
  );
}

/**
 * `user:` when the user information starts with a plain user name and a colon: a user name
 * cannot hold `:`, so the text before the first colon is never part of the password.
 */
function userOf(userInfo: string): string {
  const colon = userInfo.indexOf(':');
  const user = userInfo.slice(0, colon);
  return colon >= 0 && !/[@/?#]/.test(user) ? `${user}:` : '';
}

function redactParsed(parsed: URL): string {
  if (parsed.password !== '') parsed.password = '***';
  for (const name of new Set(parsed.searchParams.keys())) {
    if (SECRET_NAME.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString();
}

function redactText(text: string): string {
  return text.replace(SECRET_PARAMETER_TEXT, '$1***');
}

/** True when the parser's host is exactly the text after the URL's last `@`. */
function hostFollows(url: string, last: number, parsed: URL): boolean {
  const after = url.slice(last + 1);
  const end = after.search(/[/?#]/);
  const authority = (end < 0 ? after : after.slice(0, end)).toLowerCase();
  return parsed.host !== '' && authority === parsed.host.toLowerCase();
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Makes the error a refused URL is thrown as, in the opener's own error family. */
export type UrlRefusal = (message: string, cause?: unknown) => Error;

/** The scheme of a URL in lower case (`sqlite`, `postgres`, ...), or undefined when it has none. */
export function urlScheme(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
}

/**
 * The file path (percent-decoded) and query parameters of a `sqlite://` URL:
 * `sqlite:///abs/path.db` or `sqlite://relative/path.db`. A URL that does not start with
 * `sqlite://` or names no file is refused.
 *
 * @example
 * sqliteUrl('sqlite://jobs.db?pollMs=25', refuse); // { path: 'jobs.db', params: pollMs=25 }
 */
export function sqliteUrl(
  url: string,
  refuse: UrlRefusal,
): { readonly path: string; readonly params: URLSearchParams } {
  const [rest = '', query = ''] = url.slice('sqlite://'.length).split('?', 2);
  const path = decodeURIComponent(rest);
  if (!url.toLowerCase().startsWith('sqlite://') || path === '') {
    throw refuse(
      `SQLite URL ${JSON.stringify(redactUrl(url))} names no file; write sqlite:///absolute/path.db or sqlite://relative/path.db.`,
    );
  }
  return { path, params: new URLSearchParams(query) };
}

/** The URL parameter `name` as whole milliseconds, as `{ [name]: ms }`, or `{}` when absent. */
export function millisecondsParameter(
  params: URLSearchParams,
  name: string,
  refuse: UrlRefusal,
): { readonly [name: string]: number } {
  const value = params.get(name);
  if (value === null) return {};
  if (!/^\d+$/.test(value)) {
    throw refuse(`SQLite URL parameter ${name}=${value} is not a whole number of milliseconds.`);
  }
  return { [name]: Number(value) };
}

/**
 * A server URL (`postgres://`, `redis://`) without the parameter `name` that taskflow reads
 * itself (`schema`, `prefix`), and that parameter's value; every other parameter stays for the
 * driver. A URL the WHATWG parser cannot read is refused with `example` as the way to write it.
 *
 * @example
 * serverUrl('postgres://db/app?schema=tf', 'schema', 'postgres://...', 'PostgreSQL URL', refuse);
 * // { url: 'postgres://db/app', value: 'tf' }
 */
export function serverUrl(
  url: string,
  name: string,
  example: string,
  what: string,
  refuse: UrlRefusal,
): { readonly url: string; readonly value?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw refuse(
      `${what} ${JSON.stringify(redactUrl(url))} cannot be parsed; write ${example}.`,
      error,
    );
  }
  const value = parsed.searchParams.get(name);
  parsed.searchParams.delete(name);
  return { url: parsed.toString(), ...(value === null ? {} : { value }) };
}
