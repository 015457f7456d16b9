import type { MessagePort } from 'node:worker_threads';
import type { FailureJson } from '../core/failure.ts';

/** What the pool sends a thread for one execute or revert: plain, cloneable data and a port. */
export interface ThreadRequest {
  readonly task: { readonly name: string; readonly version: string };
  readonly phase: 'execute' | 'revert';
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly outcome?:
    | { readonly ok: true; readonly result: unknown }
    | { readonly ok: false; readonly failure: FailureJson };
  /** Progress reports go back through it, as `{ fraction, details }`, then `{ done: true }`. */
  readonly progress: MessagePort;
}

/** What a thread answers: the task's result (JSON), or its failure. */
export type ThreadAnswer =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly failure: FailureJson };

/** What the pool gives each thread when it starts. */
export interface ThreadData {
  /** The file URL of the module that exports the tasks. */
  readonly tasks: string;
  /** File URLs of modules to import first, in order. */
  readonly preload: readonly string[];
}
