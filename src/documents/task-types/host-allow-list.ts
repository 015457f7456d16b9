/**
 * True when `url`'s host is on the allow-list. An entry is a host name or address (any port:
 * `api.example.com`, `127.0.0.1`, `[::1]`), the same with a port (`127.0.0.1:8080`), or
 * `*.example.com` for every subdomain of example.com (not example.com itself).
 *
 * @example
 * hostAllowed(new URL('https://api.example.com/v1'), ['*.example.com']); // true
 * hostAllowed(new URL('http://169.254.169.254/'), ['*.example.com']); // false
 */
export function hostAllowed(url: URL, allowHosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port === '' ? defaultPort(url.protocol) : url.port;
  return allowHosts.some((entry) => {
    const { name, port: wanted } = splitEntry(entry.trim().toLowerCase());
    if (wanted !== undefined && wanted !== port) return false;
    if (name.startsWith('*.')) return host.endsWith(name.slice(1)) && host.length > name.length - 1;
    return host === name;
  });
}

/**
 * Why an allow-list entry cannot match anything, or undefined when it is well formed.
 *
 * @example
 * allowEntryProblem('https://example.com'); // 'is a URL; give only the host, e.g. "example.com"'
 */
export function allowEntryProblem(entry: string): string | undefined {
  if (entry.includes('/')) return 'is a URL; give only the host, e.g. "example.com"';
  if (entry.trim() === '' || entry.includes('*', 1)) {
    return 'is not a host, host:port or *.domain';
  }
  return undefined;
}

function splitEntry(entry: string): { name: string; port: string | undefined } {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    const rest = entry.slice(end + 1);
    return {
      name: entry.slice(0, end + 1),
      port: rest.startsWith(':') ? rest.slice(1) : undefined,
    };
  }
  const colon = entry.lastIndexOf(':');
  if (colon === -1 || entry.indexOf(':') !== colon) return { name: entry, port: undefined };
  return { name: entry.slice(0, colon), port: entry.slice(colon + 1) };
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}
