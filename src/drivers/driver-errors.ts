// What the adapters share when they turn a driver's errors into their own error class: the
// run store's adapters into StorageError, the jobboard's into JobBoardError.

/** An adapter's error class, built from one of its codes. */
export type ErrorClass<C extends string> = new (
  code: C,
  message: string,
  options: { readonly cause?: unknown },
) => Error;

/** An adapter's error class and the two codes driver errors map to. */
export interface DriverErrorKinds<C extends string> {
  readonly errorClass: ErrorClass<C>;
  /** The retryable code: the server or file is unreachable, busy or locked for now. */
  readonly unavailable: C;
  /** The code for stored data or tables that cannot be read as what they should be. */
  readonly corrupt: C;
}

/** Node's socket error codes after which a later call may reach the server again. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
