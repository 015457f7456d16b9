import { randomUUID } from 'node:crypto';
import { TaskFlowError } from '../core/errors.ts';
import type { JsonValue } from '../core/failure.ts';
import {
  ATOM_ACTIONS,
  OPERATOR_ACTIONS,
  type OperatorAction,
  type OperatorRequest,
} from '../core/operator-request.ts';
import type { AtomState, FlowState } from '../core/states.ts';
import { type AtomRecord, clearAtomRecord } from './atom-record.ts';

// What each operator action may be applied to, and how the stopped ones change a run's atoms.
// The engine applies them (engine.ts); the conductor and the service check the same table
// before they ask, so a refusal is explained before anything is stored.

/** The flow states in which each action applies. */
export const ACTION_FLOW_STATES: Readonly<Record<OperatorAction, readonly FlowState[]>> = {
  suspend: ['PENDING', 'RUNNING', 'RESUMING'],
  resume: ['SUSPENDED'],
  cancel: ['PENDING', 'RUNNING', 'RESUMING', 'SUSPENDING', 'SUSPENDED'],
  redrive: ['REVERTED', 'FAILURE'],
  'retry-revert': ['FAILURE'],
  'skip-revert': ['FAILURE'],
  resolve: ['FAILURE'],
};

/** Actions applied to a run in progress; the others change a stopped run before it runs. */
export function actsWhileRunning(action: OperatorAction): boolean {
  return action === 'suspend' || action === 'cancel' || action === 'resume';
}

/**
 * Builds an operator's request with a fresh id and the current time.
 *
 * @example
 * engine.apply(operatorRequest('cancel', { by: 'alice', revert: false }));
 */
export function operatorRequest(
  action: OperatorAction,
  options: {
    readonly by: string;
    readonly atom?: string;
    readonly revert?: boolean;
    readonly result?: JsonValue;
    readonly reason?: string;
    readonly at?: number;
  },
): OperatorRequest {
  const { at, ...rest } = options;
  return { id: randomUUID(), action, at: at ?? Date.now(), ...rest };
}

/** Refuses a request whose shape is wrong, naming the field and the fix. */
export function checkOperatorRequest(request: OperatorRequest): void {
  const problem = requestProblem(request);
  if (problem !== undefined) {
    throw new TaskFlowError('INVALID_ARGUMENT', `Operator request refused: ${problem}.`);
  }
}

function requestProblem(request: OperatorRequest): string | undefined {
  if (typeof request !== 'object' || request === null) return 'pass an object';
  if (!OPERATOR_ACTIONS.includes(request.action)) {
    return `action ${JSON.stringify(request.action)} is unknown; use one of ${OPERATOR_ACTIONS.join(', ')}`;
  }
  if (typeof request.id !== 'string' || request.id === '') return '"id" must be a non-empty string';
  if (typeof request.by !== 'string' || request.by === '') {
    return '"by" must name who asks (a non-empty string)';
  }
  if (!Number.isFinite(request.at)) return '"at" must be epoch milliseconds';
  const atomAction = ATOM_ACTIONS.includes(request.action);
  if (atomAction && (typeof request.atom !== 'string' || request.atom === '')) {
    return `"${request.action}" names the atom to act on in "atom"`;
  }
  if (!atomAction && request.atom !== undefined) {
    return `"${request.action}" acts on the whole run; leave "atom" out`;
  }
  if (request.revert !== undefined && request.action !== 'cancel') {
    return '"revert" belongs to "cancel" only';
  }
  if (request.result !== undefined && request.action !== 'resolve') {
    return '"result" belongs to "resolve" only';
  }
  return undefined;
}

/**
 * Why the request does not apply to a run in `state` with these atoms, or undefined when it
 * does. Worded for an operator: it names the state that would allow it.
 */
export function refusalOf(
  request: OperatorRequest,
  flowName: string,
  state: FlowState,
  atom: (name: string) => { readonly state: AtomState } | undefined,
): string | undefined {
  const states = ACTION_FLOW_STATES[request.action];
  if (!states.includes(state)) {
    return `Run of flow "${flowName}" is ${state}; "${request.action}" applies to a run that is ${states.join(' or ')}.`;
  }
  if (request.atom === undefined) return undefined;
  const record = atom(request.atom);
  if (record === undefined) return `Flow "${flowName}" has no atom named "${request.atom}".`;
  if (record.state !== 'REVERT_FAILURE') {
    return `Atom "${request.atom}" is ${record.state}; "${request.action}" applies to an atom in REVERT_FAILURE.`;
  }
  return undefined;
}

/**
 * Changes the atoms of a stopped run as the request asks, staging each changed record.
 * `redrive`: every atom that did not succeed (reverted, failed, ignored, stopped mid-way) goes
 * back to PENDING, and what succeeded runs forward again (intention EXECUTE) with its result
 * kept; retries start a fresh history. The atom actions finish one atom's revert by hand.
 */
export function editStoppedRun(
  request: OperatorRequest,
  records: readonly AtomRecord[],
  atom: (name: string) => AtomRecord | undefined,
  stage: (record: AtomRecord) => void,
): void {
  if (request.action === 'redrive') {
    for (const record of records) {
      if (record.state === 'SUCCESS') {
        if (record.intention === 'EXECUTE' && record.history.length === 0) continue;
        record.intention = 'EXECUTE';
        record.history = [];
      } else if (record.state === 'PENDING') {
        continue;
      } else {
        clearAtomRecord(record);
        record.history = [];
      }
      stage(record);
    }
    return;
  }
  const record = atom(request.atom ?? '');
  if (record === undefined) return;
  if (request.action === 'retry-revert') {
    record.state = 'REVERTING';
    record.revertFailure = undefined;
  } else {
    record.state = 'REVERTED';
    record.revertFailure = undefined;
    record.revertResult = request.action === 'resolve' ? request.result : undefined;
    record.hasResult = false;
    record.progress = 1;
  }
  stage(record);
}
