import { TaskFlowError } from '../core/errors.ts';
import { ProblemError } from './problem.ts';

/**
 * How the library's refusals read over HTTP: a code of the jobboard or the run store becomes
 * a status and a problem type; the library's message (which names the problem and the fix) is
 * the detail (except for an unavailable backend, whose driver message stays in the server's
 * log). Anything else is not the client's fault and becomes a 500 without details.
 */
const BY_CODE: Readonly<Record<string, { status: 400 | 404 | 409 | 503; title: string }>> = {
  INVALID_ARGUMENT: { status: 400, title: 'Invalid argument' },
  NOT_SERIALIZABLE: { status: 400, title: 'Value cannot be stored' },
  UNKNOWN_FACTORY: { status: 404, title: 'Unknown flow' },
  JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  RUN_NOT_FOUND: { status: 404, title: 'Run not found' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  JOB_CLAIMED: { status: 409, title: 'Job is claimed' },
  INVALID_STATE: { status: 409, title: 'Not allowed in this state' },
  REQUEST_REFUSED: { status: 409, title: 'Request refused' },
  LEASE_HELD: { status: 409, title: 'Run is leased' },
  IDEMPOTENCY_CONFLICT: { status: 409, title: 'Idempotency key already used' },
  VERSION_MISMATCH: { status: 409, title: 'Flow version not served' },
  BOARD_UNAVAILABLE: { status: 503, title: 'Jobboard unavailable' },
  STORAGE_UNAVAILABLE: { status: 503, title: 'Run store unavailable' },
  BOARD_CLOSED: { status: 503, title: 'Jobboard closed' },
  STORE_CLOSED: { status: 503, title: 'Run store closed' },
};

/** The problem a library error stands for, or undefined when it is not a known refusal. */
export function problemOfLibraryError(error: unknown): ProblemError | undefined {
  if (!(error instanceof TaskFlowError)) return undefined;
  const known = BY_CODE[error.code];
  if (known === undefined) return undefined;
  const kind = error.code.toLowerCase().replaceAll('_', '-');
  // A driver's message may name hosts and users of the backend: not for clients.
  const detail =
    known.status === 503
      ? `${known.title}: the service cannot reach it now; try again shortly.`
      : error.message;
  return new ProblemError(known.status, kind, known.title, detail);
}
