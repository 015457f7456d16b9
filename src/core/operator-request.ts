import type { JsonValue } from './failure.ts';

/**
 * What an operator can ask of a run:
 * - `suspend`: stop starting atoms; the run ends SUSPENDED and stays so until `resume`.
 * - `resume`: continue a SUSPENDED run.
 * - `cancel`: stop the run; with `revert` (the default) revert what it did, ending REVERTED,
 *   without it stop where it stands, ending FAILURE.
 * - `redrive`: run a REVERTED or FAILURE run again from its failed atoms, keeping what
 *   succeeded.
 * - `retry-revert`, `skip-revert`, `resolve`: finish the revert of an atom in REVERT_FAILURE by
 *   trying it again, by counting it as reverted, or by counting it as reverted with the
 *   operator's `result`; the rest of the run's revert then goes on.
 */
export const OPERATOR_ACTIONS = [
  'suspend',
  'resume',
  'cancel',
  'redrive',
  'retry-revert',
  'skip-revert',
  'resolve',
] as const;
/** One of {@link OPERATOR_ACTIONS}. */
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/** The actions that name one atom of the run. */
export const ATOM_ACTIONS: readonly OperatorAction[] = ['retry-revert', 'skip-revert', 'resolve'];

/**
 * An operator's request, as it travels to the engine that applies it and as it is recorded in
 * the run's audit list (`FlowDetail.meta.actions`). Plain JSON data.
 *
 * @example
 * const request: OperatorRequest = {
 *   id: randomUUID(), action: 'cancel', revert: true, by: 'alice', at: Date.now(),
 * };
 */
export interface OperatorRequest {
  /** Unique per request: an engine that applies it twice (after a crash) records it once. */
  readonly id: string;
  readonly action: OperatorAction;
  /** Who asked (a token's name, a user). */
  readonly by: string;
  /** Epoch ms of the request. */
  readonly at: number;
  /** The atom of `retry-revert`, `skip-revert` and `resolve`. */
  readonly atom?: string;
  /** `cancel` only: revert what ran (default true). */
  readonly revert?: boolean;
  /** `resolve` only: the atom's revert result. */
  readonly result?: JsonValue;
  /** Why, in the operator's words. */
  readonly reason?: string;
}

/** A request as the run's audit list keeps it, once the engine has applied or refused it. */
export interface AppliedRequest extends OperatorRequest {
  /** Epoch ms when the engine applied (or refused) it. */
  readonly appliedAt: number;
  /** Why it did not apply (the run had moved on meanwhile); absent when it did. */
  readonly refused?: string;
}
