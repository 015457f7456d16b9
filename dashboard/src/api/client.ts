import type { Problem } from './types.ts';

/** A refused or failed API call, with the service's problem document when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: Problem | undefined, fallback: string) {
    super(problem?.detail ?? fallback);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** Options of {@link Api}. */
export interface ApiOptions {
  /** The bearer token, or undefined for a service started with --no-auth. */
  readonly token: string | undefined;
  /** Called when the service refuses the token (401), before the call throws. */
  readonly onUnauthorized: (error: ApiError) => void;
  /** Called when the token's scope is too small for a call (403), before the call throws. */
  readonly onForbidden?: (error: ApiError) => void;
  /** Where the service is; this page's origin by default. */
  readonly base?: string;
}

/** Calls the service's public /v1 API with the signed-in token. */
export class Api {
  readonly #token: string | undefined;
  readonly #onUnauthorized: (error: ApiError) => void;
  readonly #onForbidden: ((error: ApiError) => void) | undefined;
  readonly #base: string;

  constructor(options: ApiOptions) {
    this.#token = options.token;
    this.#onUnauthorized = options.onUnauthorized;
    this.#onForbidden = options.onForbidden;
    this.#base = options.base ?? '';
  }

  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  url(path: string): string {
    return `${this.#base}${path}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.#token === undefined ? extra : { ...extra, Authorization: `Bearer ${this.#token}` };
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.#call<T>('GET', path, undefined, {}, signal);
  }

  post<T>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.#call<T>('POST', path, body, headers);
  }

  /** Reports a refused token to the sign-in screen; used by event streams too. */
  unauthorized(error: ApiError): void {
    this.#onUnauthorized(error);
  }

  async #call<T>(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<T> {
    const response = await fetch(this.url(path), {
      method,
      headers: this.headers({
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal === undefined ? {} : { signal }),
    });
    const text = await response.text();
    if (!response.ok) {
      const error = new ApiError(
        response.status,
        parseProblem(text),
        `${method} ${path} answered ${response.status}.`,
      );
      if (response.status === 401) this.#onUnauthorized(error);
      if (response.status === 403) this.#onForbidden?.(error);
      throw error;
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/** The problem document in an error response's body, if it is one. */
export function parseProblem(text: string): Problem | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && 'detail' in value && 'status' in value) {
      return value as Problem;
    }
  } catch {
    // Not JSON: a proxy's error page, say; the caller reports the status instead.
  }
  return undefined;
}

/** A message for any error a call may throw. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return `The service could not be reached: ${error.message}`;
  return String(error);
}
