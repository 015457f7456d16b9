/**
 * Base of every error this library throws. `code` is stable and meant for programs;
 * `message` is for people and says what went wrong, with which value, and how to fix it.
 */
export class TaskFlowError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
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
    | 'INVALID_DEFINITION';
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
