import { TaskFlowError } from './errors.ts';

/** A JSON value: what crosses a port or is persisted. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** The plain, JSON-safe shape of a {@link Failure}. */
export interface FailureJson {
  readonly type: string;
  readonly message: string;
  readonly stack?: string;
  readonly cause?: FailureJson;
  readonly details?: JsonValue;
  readonly retryable: boolean;
}

const MAX_CAUSE_DEPTH = 16;

/**
 * What went wrong in an atom, as data: serialisable, comparable, and safe to persist.
 * In the process where the error happened it also keeps the original error, so a run can
 * rethrow exactly what the task threw.
 *
 * @example
 * const failure = Failure.from(new RangeError('size must be positive'));
 * failure.type; // 'RangeError'
 * Failure.fromJson(JSON.parse(JSON.stringify(failure))).message; // 'size must be positive'
 */
export class Failure {
  readonly type: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly cause: Failure | undefined;
  readonly details: JsonValue | undefined;
  readonly retryable: boolean;
  readonly #error: Error | undefined;

  private constructor(json: FailureJson, error: Error | undefined) {
    this.type = json.type;
    this.message = json.message;
    this.stack = json.stack;
    this.cause = json.cause === undefined ? undefined : Failure.fromJson(json.cause);
    this.details = json.details;
    this.retryable = json.retryable;
    this.#error = error;
  }

  /** Captures any thrown value. `details` and `retryable` are read from the error when present. */
  static from(thrown: unknown): Failure {
    if (thrown instanceof Failure) return thrown;
    if (thrown instanceof FailureError) return thrown.failure;
    return new Failure(describe(thrown, 0), thrown instanceof Error ? thrown : undefined);
  }

  /** Rebuilds a failure from its JSON shape; throws a {@link TaskFlowError} naming the bad field. */
  static fromJson(value: unknown): Failure {
    return new Failure(parseFailureJson(value, 'failure'), undefined);
  }

  /** The original error when this failure was captured in this process, else an equivalent one. */
  toError(): Error {
    if (this.#error) return this.#error;
    return new FailureError(this);
  }

  /** True when this failure or one of its causes has the given type name. */
  is(type: string): boolean {
    for (let f: Failure | undefined = this; f; f = f.cause) if (f.type === type) return true;
    return false;
  }

  toJSON(): FailureJson {
    return {
      type: this.type,
      message: this.message,
      ...(this.stack === undefined ? {} : { stack: this.stack }),
      ...(this.cause === undefined ? {} : { cause: this.cause.toJSON() }),
      ...(this.details === undefined ? {} : { details: this.details }),
      retryable: this.retryable,
    };
  }

  toString(): string {
    return `${this.type}: ${this.message}`;
  }
}

/** The error a {@link Failure} becomes when its original error is not in this process. */
export class FailureError extends TaskFlowError {
  readonly failure: Failure;

  constructor(failure: Failure) {
    super('ATOM_FAILED', failure.message, failure.cause ? { cause: failure.cause.toError() } : {});
    this.name = failure.type;
    this.failure = failure;
    if (failure.stack !== undefined) this.stack = failure.stack;
  }
}

function describe(thrown: unknown, depth: number): FailureJson {
  if (!(thrown instanceof Error)) {
    return {
      type: typeof thrown === 'object' && thrown !== null ? 'Object' : typeof thrown,
      message: safeString(thrown),
      retryable: false,
    };
  }
  const extra = thrown as Error & { details?: unknown; retryable?: unknown };
  const cause =
    depth < MAX_CAUSE_DEPTH && thrown.cause !== undefined
      ? describe(thrown.cause, depth + 1)
      : undefined;
  const details = toJsonValue(extra.details);
  return {
    // A subclass that does not set `name` still reports its class, as TaskFlow records it.
    type:
      thrown.name && thrown.name !== 'Error' ? thrown.name : thrown.constructor?.name || 'Error',
    message: thrown.message,
    ...(thrown.stack === undefined ? {} : { stack: thrown.stack }),
    ...(cause === undefined ? {} : { cause }),
    ...(details === undefined ? {} : { details }),
    retryable: extra.retryable === true,
  };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}

function toJsonValue(value: unknown): JsonValue | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as JsonValue;
  } catch {
    return safeString(value);
  }
}

function parseFailureJson(value: unknown, path: string): FailureJson {
  if (typeof value !== 'object' || value === null) {
    throw new TaskFlowError(
      'INVALID_FAILURE',
      `${path} must be an object with "type" and "message", got ${safeString(value)}.`,
    );
  }
  const v = value as Record<string, unknown>;
  const field = (name: string, kind: 'string' | 'boolean', optional: boolean): void => {
    if (v[name] === undefined && optional) return;
    if (typeof v[name] !== kind) {
      throw new TaskFlowError(
        'INVALID_FAILURE',
        `${path}.${name} must be a ${kind}, got ${safeString(v[name])}.`,
      );
    }
  };
  field('type', 'string', false);
  field('message', 'string', false);
  field('stack', 'string', true);
  field('retryable', 'boolean', true);
  return {
    type: v.type as string,
    message: v.message as string,
    ...(v.stack === undefined ? {} : { stack: v.stack as string }),
    ...(v.cause === undefined ? {} : { cause: parseFailureJson(v.cause, `${path}.cause`) }),
    ...(v.details === undefined ? {} : { details: v.details as JsonValue }),
    retryable: v.retryable === true,
  };
}

/** Several atoms failed; `failures` keeps each of them (TaskFlow's WrappedFailure). */
export class WrappedFailure extends TaskFlowError {
  readonly failures: readonly Failure[];

  constructor(failures: readonly Failure[]) {
    super('WRAPPED_FAILURE', `${failures.length} atoms failed: ${failures.map(String).join('; ')}`);
    this.failures = failures;
  }
}

/** The one error a failed run reports: the original error for one failure, an aggregate for several. */
export function failureToThrow(failures: readonly Failure[]): Error {
  const [only] = failures;
  if (failures.length === 1 && only) return only.toError();
  return new WrappedFailure(failures);
}
