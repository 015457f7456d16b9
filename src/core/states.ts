/** Persisted spellings of flow, atom and intention states (as TaskFlow). */
export const FLOW_STATES = [
  'PENDING',
  'RUNNING',
  'SUCCESS',
  'FAILURE',
  'REVERTED',
  'SUSPENDING',
  'SUSPENDED',
  'RESUMING',
] as const;
/** A flow's state; docs/semantics.md, "States", gives the moves between them. */
export type FlowState = (typeof FLOW_STATES)[number];

/** Every state an atom can be in, as persisted. */
export const ATOM_STATES = [
  'PENDING',
  'RUNNING',
  'SUCCESS',
  'FAILURE',
  'REVERTING',
  'REVERTED',
  'REVERT_FAILURE',
  'IGNORE',
  'RETRYING',
] as const;
/** An atom's state; only the moves in docs/semantics.md are legal. */
export type AtomState = (typeof ATOM_STATES)[number];

/** What the engine means to do with an atom next. */
export const INTENTIONS = ['EXECUTE', 'REVERT', 'RETRY', 'IGNORE'] as const;
/** What the engine means to do with an atom next: run it, undo it, retry its flow, or skip it. */
export type Intention = (typeof INTENTIONS)[number];

/** The two kinds of atom the engine schedules. */
export type AtomKind = 'task' | 'retry';

const ATOM_TRANSITIONS: Readonly<Record<AtomState, readonly AtomState[]>> = {
  PENDING: ['RUNNING', 'IGNORE'],
  RUNNING: ['SUCCESS', 'FAILURE'],
  SUCCESS: ['REVERTING', 'RETRYING'],
  FAILURE: ['REVERTING'],
  REVERTING: ['REVERTED', 'REVERT_FAILURE'],
  REVERTED: ['PENDING'],
  // Only an operator moves an atom out of REVERT_FAILURE: retry-revert, skip-revert, resolve.
  REVERT_FAILURE: ['REVERTING', 'REVERTED'],
  IGNORE: ['PENDING'],
  RETRYING: ['RUNNING'],
};

const FLOW_TRANSITIONS: Readonly<Record<FlowState, readonly FlowState[]>> = {
  PENDING: ['RUNNING'],
  RUNNING: ['SUCCESS', 'FAILURE', 'REVERTED', 'SUSPENDING'],
  SUSPENDING: ['SUSPENDED', 'SUCCESS', 'FAILURE', 'REVERTED'],
  SUSPENDED: ['RESUMING', 'RUNNING'],
  RESUMING: ['RUNNING'],
  SUCCESS: ['PENDING'],
  FAILURE: ['PENDING', 'RESUMING', 'RUNNING'],
  REVERTED: ['PENDING'],
};

/** True when an atom of `kind` may move from `from` to `to`; SUCCESS→RETRYING is for retries only. */
export function isLegalAtomTransition(kind: AtomKind, from: AtomState, to: AtomState): boolean {
  if (to === 'RETRYING' && kind !== 'retry') return false;
  return ATOM_TRANSITIONS[from].includes(to);
}

export function isLegalFlowTransition(from: FlowState, to: FlowState): boolean {
  return FLOW_TRANSITIONS[from].includes(to);
}

/** Atom states in which the atom's code has run and its effects are not yet undone. */
export function hasRun(state: AtomState): boolean {
  return state === 'RUNNING' || state === 'SUCCESS' || state === 'FAILURE' || state === 'REVERTING';
}
