/** Options of {@link TaskFlowError}. */
export interface TaskFlowErrorOptions {
  readonly cause?: unknown;
  /** True when the same call may succeed later (a backend briefly unavailable). Default false. */
  readonly retryable?: boolean;
}

/**
 * Base of every error this library throws. `code` is stable and meant for programs;
 * `message` is for people and says what went wrong, with which value, and how to fix it;
 * `retryable` says whether trying the same thing again later can help, so callers need no
 * lists of other layers' codes.
 *
 * @example
 * try {
 *   await engine.run();
 * } catch (error) {
 *   if (error instanceof TaskFlowError && error.retryable) scheduleAnotherTry();
 *   else throw error;
 * }
 */
export class TaskFlowError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: TaskFlowErrorOptions = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable === true;
  }
}

/**
 * True when `error` is of the error family `type`, and has `code` when one is given: the check
 * behind each family's guard, e.g. `isStorageError(error, 'FENCED')`.
 */
export function isErrorOf<E extends TaskFlowError>(
  error: unknown,
  type: abstract new (...args: never[]) => E,
  code?: E['code'],
): error is E {
  return error instanceof type && (code === undefined || error.code === code);
}

/** True when `error` says that trying again later may succeed (`retryable: true`). */
export function isRetryable(error: unknown): boolean {
  return (error as { retryable?: unknown } | null)?.retryable === true;
}

/** One problem found while validating a flow, with the fix. */
export interface ValidationIssue {
  readonly code:
    | 'MISSING_REQUIREMENT'
    | 'DUPLICATE_NAME'
    | 'DUPLICATE_ATOM'
    | 'CYCLE'
    | 'AMBIGUOUS_PROVIDER'
    | 'RETRY_AS_CHILD'
    | 'INVALID_DEFINITION'
    | 'UNKNOWN_EXECUTOR';
  /** The atom or flow the problem is about. */
  readonly atom?: string;
  /** The symbol involved, when there is one. */
  readonly symbol?: string;
  readonly message: string;
}

/** A flow or atom definition is invalid; `issues` lists every problem found, not just the first. */
export class ValidationError extends TaskFlowError {
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    const lines = issues.map((issue) => `  - ${issue.message}`).join('\n');
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super('VALIDATION_FAILED', `Flow validation found ${count}:\n${lines}`);
    this.issues = issues;
  }
}

/** An operation was asked of an engine or flow in a state that does not allow it. */
export class StateError extends TaskFlowError {
  constructor(message: string) {
    super('INVALID_STATE', message);
  }
}

/** An operator cancelled the run; a cancelled run is reverted with it, or ends FAILURE with it. */
export class RunCancelledError extends TaskFlowError {
  readonly by: string;

  constructor(by: string, reason: string | undefined) {
    super('CANCELLED', `The run was cancelled by "${by}"${reason ? `: ${reason}` : ''}.`);
    this.by = by;
  }
}

/** A task ran longer than its `timeoutMs`. */
export class TaskTimeoutError extends TaskFlowError {
  readonly timeoutMs: number;

  constructor(atom: string, timeoutMs: number) {
    super(
      'TIMEOUT',
      `Task "${atom}" did not finish within its timeout of ${timeoutMs} ms; raise "timeoutMs" or make the task honour its AbortSignal sooner.`,
    );
    this.timeoutMs = timeoutMs;
  }
}
