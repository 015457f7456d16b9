import { StateError, TaskFlowError } from '../core/errors.ts';
import {
  ATOM_ACTIONS,
  OPERATOR_ACTIONS,
  type OperatorAction,
  type OperatorRequest,
} from '../core/operator-request.ts';
import type { FlowState } from '../core/states.ts';
import { ACTION_FLOW_STATES, checkOperatorRequest, refusalOf } from '../engine/operator-actions.ts';
import type { Job, JobState } from '../jobs/model.ts';
import type { JobReader } from '../jobs/ports.ts';
import type { AtomDetail, FlowDetail } from '../persistence/model.ts';
import type { RunReader } from '../persistence/ports.ts';

/**
 * The job states each action's request may be left in. A job completes when its run ends or
 * an operator suspends it, so the actions on a stopped run reopen a COMPLETE job.
 */
const ACTION_JOB_STATES: Readonly<Record<OperatorAction, readonly JobState[]>> = {
  suspend: ['UNCLAIMED', 'CLAIMED'],
  cancel: ['UNCLAIMED', 'CLAIMED', 'COMPLETE'],
  resume: ['COMPLETE'],
  redrive: ['COMPLETE'],
  'retry-revert': ['COMPLETE'],
  'skip-revert': ['COMPLETE'],
  resolve: ['COMPLETE'],
};

/**
 * Asks the engine that runs (or will run) a job's run to apply an operator's request, from
 * any process: the run's state is checked first (a request it does not allow is refused with
 * an `INVALID_STATE` error that names the states that would allow it, and nothing is stored),
 * then the request is left on the run's job. The conductor holding the job hears of it at once
 * and applies it; a stopped run's job is reopened so that a conductor applies it before the
 * run goes on. The run's audit list (`auditList(flow)`) records it once applied. Returns the
 * job as it now is.
 *
 * @example
 * await requestRunAction({ board, runs }, 'order-42', operatorRequest('cancel', { by: 'alice' }));
 */
export async function requestRunAction(
  deps: { readonly board: Pick<JobReader, 'get' | 'request'>; readonly runs: RunReader },
  runId: string,
  request: OperatorRequest,
): Promise<Job> {
  checkOperatorRequest(request);
  const [run, job] = await Promise.all([deps.runs.loadRun(runId), deps.board.get(runId)]);
  if (job === undefined) {
    throw new TaskFlowError(
      'NOT_FOUND',
      run === undefined
        ? `No run has id "${runId}"; list the runs to find its id.`
        : `Run "${runId}" is not carried by a job, so no conductor can apply "${request.action}" to it; apply it to its engine with engine.apply() before run().`,
    );
  }
  // A job no conductor has opened yet has no run: it is about to start.
  const state = run?.flow.state ?? 'PENDING';
  const atoms = new Map((run?.atoms ?? []).map((atom) => [atom.name, atom]));
  const refused = refusalOf(request, run?.flow.name ?? job.name, state, (name) => atoms.get(name));
  if (refused !== undefined) throw new StateError(refused);
  if (request.action === 'resume' && job.state !== 'COMPLETE') {
    throw new StateError(
      `Run "${runId}" is SUSPENDED but its job is ${job.state}: a conductor ${job.state === 'CLAIMED' ? 'is continuing it' : 'will continue it'} without a resume.`,
    );
  }
  return deps.board.request(runId, request, ACTION_JOB_STATES[request.action]);
}

/**
 * The operator actions that {@link requestRunAction} would accept now: on the whole run, and
 * per atom (by name; only atoms that allow one are listed). None while a request is pending.
 *
 * @example
 * const { run: actions } = allowedRunActions(await runs.loadRun(id), await board.get(id));
 * if (actions.includes('cancel')) showCancelButton();
 */
export function allowedRunActions(
  run: { readonly flow: FlowDetail; readonly atoms: readonly AtomDetail[] } | undefined,
  job: Job | undefined,
): { readonly run: OperatorAction[]; readonly atoms: ReadonlyMap<string, OperatorAction[]> } {
  if (job === undefined || job.request !== null) return { run: [], atoms: new Map() };
  const state: FlowState = run?.flow.state ?? 'PENDING';
  const allows = (action: OperatorAction): boolean =>
    ACTION_FLOW_STATES[action].includes(state) &&
    ACTION_JOB_STATES[action].includes(job.state) &&
    (action !== 'resume' || job.state === 'COMPLETE');
  const runActions = OPERATOR_ACTIONS.filter(
    (action) => !ATOM_ACTIONS.includes(action) && allows(action),
  );
  const atomActions = ATOM_ACTIONS.filter(allows);
  const atoms = new Map<string, OperatorAction[]>();
  if (atomActions.length > 0) {
    for (const atom of run?.atoms ?? []) {
      if (atom.state === 'REVERT_FAILURE') atoms.set(atom.name, [...atomActions]);
    }
  }
  return { run: runActions, atoms };
}
