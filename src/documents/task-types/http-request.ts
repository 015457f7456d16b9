import { TaskFlowError } from '../../core/errors.ts';
import type { JsonValue } from '../../core/failure.ts';
import { childPath, type DocumentIssue } from '../document-error.ts';
import type { HttpRequestNode } from '../document-schema.ts';
import {
  expressionsOf,
  type JsonTemplate,
  parseJsonTemplate,
  parseTemplate,
  renderJson,
  renderText,
  type Template,
} from '../templates.ts';
import { hostAllowed } from './host-allow-list.ts';

/** What `http` tasks may reach and with which credentials: the service's configuration. */
export interface HttpEnvironment {
  /** Hosts requests may go to (see `hostAllowed`); none by default, so no http task runs. */
  readonly allowHosts: readonly string[];
  /** Secrets by name, for `{{ $secrets.NAME }}` in headers; never stored or printed. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Largest response body read, in bytes (default 1 MiB); a larger one fails the task. */
  readonly maxResponseBytes?: number;
}

/** One request of an `http` task, parsed and checked. */
export interface HttpRequestSpec {
  readonly method: string;
  readonly url: Template;
  readonly origin: string;
  readonly headers: readonly (readonly [string, Template])[];
  readonly body: JsonTemplate | undefined;
  readonly expect: (status: number) => boolean;
  readonly expectText: string;
}

/** What a response looked like, for result selection. */
export interface HttpResponseData {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: JsonValue;
}

const SECRET_REFERENCE = /\$secrets(?:\.([A-Za-z_][A-Za-z0-9_]*))?/g;
/** Headers the task sets itself or that would change where the request goes. */
const RESERVED_HEADERS = new Set(['idempotency-key', 'host', 'content-length']);

/**
 * Parses one request of an `http` task: the URL's scheme and host must be literal and on the
 * allow-list, templates must be JSONata, `$secrets` may appear in headers only and must name
 * a configured secret. Adds an issue per problem and returns undefined when there was one.
 */
export function parseHttpRequest(
  node: HttpRequestNode,
  path: string,
  environment: HttpEnvironment,
  issues: DocumentIssue[],
  defaultExpect: readonly [number, number][],
): HttpRequestSpec | undefined {
  const before = issues.length;
  const urlPath = childPath(path, 'url');
  const url = parseTemplate(node.url, urlPath, issues);
  const origin = url === undefined ? undefined : literalOrigin(node.url, urlPath, issues);
  if (origin !== undefined && !hostAllowed(new URL(origin), environment.allowHosts)) {
    issues.push({
      code: 'HOST_NOT_ALLOWED',
      path: urlPath,
      message: `${new URL(origin).host} is not on this service's allow-list of hosts (${environment.allowHosts.join(', ') || 'empty'}); ask its operator to allow it (taskflow serve --allow-host ${new URL(origin).host})`,
    });
  }
  if (url !== undefined) forbidSecrets(expressionsOf(url), urlPath, issues);
  const headers: (readonly [string, Template])[] = [];
  for (const [name, value] of Object.entries(node.headers ?? {})) {
    const headerPath = childPath(childPath(path, 'headers'), name);
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      issues.push({
        code: 'INVALID_DEFINITION',
        path: headerPath,
        message: `the header ${name} is set by the task itself; remove it`,
      });
      continue;
    }
    const template = parseTemplate(value, headerPath, issues);
    if (template === undefined) continue;
    checkSecrets(expressionsOf(template), headerPath, environment, issues);
    headers.push([name, template]);
  }
  const bodyPath = childPath(path, 'body');
  const body = node.body === undefined ? undefined : parseJsonTemplate(node.body, bodyPath, issues);
  if (node.body !== undefined) forbidSecrets([JSON.stringify(node.body)], bodyPath, issues);
  if (issues.length > before || url === undefined || origin === undefined) return undefined;
  const ranges: readonly [number, number][] =
    node.expect?.map((status) => [status, status] as [number, number]) ?? defaultExpect;
  return {
    method: node.method,
    url,
    origin,
    headers,
    body,
    expect: (status) => ranges.some(([low, high]) => status >= low && status <= high),
    expectText: ranges
      .map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`))
      .join(', '),
  };
}

/**
 * Sends a request: templates rendered over `input` (each URL value percent-encoded), the
 * `Idempotency-Key` header set, redirects not followed (a redirect is a status like another),
 * the host checked against the allow-list again. Returns the response, or throws an error
 * that says whether another attempt may succeed.
 */
export async function sendHttpRequest(
  spec: HttpRequestSpec,
  options: {
    readonly task: string;
    readonly input: unknown;
    readonly bindings: Readonly<Record<string, unknown>>;
    readonly idempotencyKey: string;
    readonly signal: AbortSignal;
    readonly environment: HttpEnvironment;
  },
): Promise<HttpResponseData> {
  const { task, input, bindings, environment } = options;
  const url = new URL(await renderText(spec.url, input, bindings, encodeURIComponent));
  const where = `${spec.method} ${url.origin}${url.pathname}`;
  if (url.origin !== spec.origin || !hostAllowed(url, environment.allowHosts)) {
    throw new TaskFlowError(
      'HOST_NOT_ALLOWED',
      `HTTP task "${task}" may not call ${url.host}: it is not on this process's allow-list of hosts; allow it in the configuration of the service and its conductors.`,
    );
  }
  const headers = new Headers();
  const withSecrets = { ...bindings, secrets: environment.secrets };
  for (const [name, template] of spec.headers) {
    headers.set(name, await renderText(template, input, withSecrets));
  }
  headers.set('Idempotency-Key', options.idempotencyKey);
  let body: string | undefined;
  if (spec.body !== undefined) {
    const value = await renderJson(spec.body, input, bindings);
    body = typeof value === 'string' && headers.has('content-type') ? value : JSON.stringify(value);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method: spec.method,
      headers,
      redirect: 'manual',
      signal: options.signal,
      ...(body === undefined ? {} : { body }),
    });
  } catch (error) {
    if (options.signal.aborted) throw error;
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new TaskFlowError(
      'HTTP_UNREACHABLE',
      `HTTP task "${task}" could not reach ${where} (${cause}); check that the service there is up.`,
      { cause: error, retryable: true },
    );
  }
  const data = await readResponse(response, task, where, environment.maxResponseBytes);
  if (!spec.expect(response.status)) {
    const excerpt = JSON.stringify(data.body).slice(0, 300);
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    throw new TaskFlowError(
      'HTTP_STATUS',
      `HTTP task "${task}" got status ${response.status} from ${where}, expected ${spec.expectText}; the response body began ${excerpt}.`,
      { retryable },
    );
  }
  return data;
}

async function readResponse(
  response: Response,
  task: string,
  where: string,
  maxBytes = 1024 * 1024,
): Promise<HttpResponseData> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > maxBytes) {
    throw new TaskFlowError(
      'HTTP_RESPONSE_TOO_LARGE',
      `HTTP task "${task}" got ${bytes.byteLength} bytes from ${where}, over the ${maxBytes} it reads; ask for less, or raise maxResponseBytes.`,
    );
  }
  const text = new TextDecoder().decode(bytes);
  const type = response.headers.get('content-type') ?? '';
  let body: JsonValue = text === '' ? null : text;
  if (text !== '' && /[/+]json\b/i.test(type)) {
    try {
      body = JSON.parse(text) as JsonValue;
    } catch {
      throw new TaskFlowError(
        'HTTP_BAD_RESPONSE',
        `HTTP task "${task}" got a body from ${where} that says it is JSON but is not; fix the service there.`,
      );
    }
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { status: response.status, headers, body };
}

/** The literal `scheme://host[:port]` a URL template starts with; an issue when it has none. */
function literalOrigin(source: string, path: string, issues: DocumentIssue[]): string | undefined {
  const firstTemplate = source.indexOf('{{');
  const literal = firstTemplate === -1 ? source : source.slice(0, firstTemplate);
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([/?#]|$)/i.exec(literal);
  const complete = match !== null && (match[3] !== '' || firstTemplate === -1);
  let parsed: URL | undefined;
  try {
    parsed = complete ? new URL(`${match[1]}://${match[2]}`) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    issues.push({
      code: 'BAD_URL',
      path,
      message: `${JSON.stringify(source)} must start with a literal http:// or https:// scheme and host (templates may follow in the path and query), so the allow-list can be checked before it runs`,
    });
    return undefined;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    issues.push({
      code: 'BAD_URL',
      path,
      message: 'the URL holds credentials; send them in a header from $secrets instead',
    });
    return undefined;
  }
  return parsed.origin;
}

function checkSecrets(
  expressions: readonly string[],
  path: string,
  environment: HttpEnvironment,
  issues: DocumentIssue[],
): void {
  for (const expression of expressions) {
    for (const match of expression.matchAll(SECRET_REFERENCE)) {
      const name = match[1];
      if (name === undefined) {
        issues.push({
          code: 'UNKNOWN_SECRET',
          path,
          message: 'secrets are read by name only, as $secrets.NAME; write the name',
        });
      } else if (!Object.hasOwn(environment.secrets, name)) {
        const known = Object.keys(environment.secrets).join(', ') || 'none';
        issues.push({
          code: 'UNKNOWN_SECRET',
          path,
          message: `the secret "${name}" is not configured on this service (configured: ${known}); ask its operator to add it`,
        });
      }
    }
  }
}

function forbidSecrets(texts: readonly string[], path: string, issues: DocumentIssue[]): void {
  if (texts.some((text) => text.includes('$secrets'))) {
    issues.push({
      code: 'UNKNOWN_SECRET',
      path,
      message:
        'secrets may be used in headers only, where they are never stored or shown; move it to a header',
    });
  }
}
