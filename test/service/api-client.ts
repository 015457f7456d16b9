import assert from 'node:assert/strict';

/** A response of the service under test, with its body parsed. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies of many shapes.
  readonly body: any;
}

/** Calls the service over real HTTP. */
export class ApiClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(base: string, headers: Record<string, string> = {}) {
    this.#base = base;
    this.#headers = headers;
  }

  withHeaders(headers: Record<string, string>): ApiClient {
    return new ApiClient(this.#base, { ...this.#headers, ...headers });
  }

  get(path: string): Promise<ApiResponse> {
    return this.request('GET', path);
  }

  post(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return this.request(
      'POST',
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    );
  }

  async request(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const response = await fetch(`${this.#base}${path}`, {
      method,
      headers: { ...this.#headers, ...headers },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  }
}

/** Asserts an error response: the status, a problem document, and its kind. */
export function assertProblem(
  response: ApiResponse,
  status: number,
  kind: string,
  label = '',
): void {
  assert.equal(response.status, status, `${label} ${JSON.stringify(response.body)}`);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  assert.equal(response.body.type, `urn:taskflow-ts:problem:${kind}`, label);
  assert.equal(response.body.status, status);
  assert.equal(typeof response.body.title, 'string');
  assert.equal(typeof response.body.detail, 'string');
  assert.equal(typeof response.body.requestId, 'string');
}
