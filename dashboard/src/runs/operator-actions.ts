import { type Api, ApiError } from '../api/client.ts';
import type { Atom, OperatorAction, Run } from '../api/types.ts';

/** An operator action the dashboard offers, as the service's action routes name them. */
export interface ActionChoice {
  /** The name in `allowedActions`. */
  readonly action: string;
  readonly label: string;
  /** The route below `/v1/runs/{id}` (or `/v1/runs/{id}/atoms/{atom}`). */
  readonly path: string;
  readonly explain: string;
  readonly danger: boolean;
}

export const RUN_ACTIONS: readonly ActionChoice[] = [
  {
    action: 'suspend',
    label: 'Suspend',
    path: 'suspend',
    explain: 'No new atom starts; running ones finish, then the run waits as SUSPENDED.',
    danger: false,
  },
  {
    action: 'resume',
    label: 'Resume',
    path: 'resume',
    explain: 'The run continues where it stopped.',
    danger: false,
  },
  {
    action: 'cancel',
    label: 'Cancel and revert',
    path: 'cancel?revert=true',
    explain: 'The run stops and everything that ran is reverted, newest first.',
    danger: true,
  },
  {
    action: 'cancel',
    label: 'Cancel without revert',
    path: 'cancel?revert=false',
    explain: 'The run stops as it is; nothing is reverted.',
    danger: true,
  },
  {
    action: 'redrive',
    label: 'Redrive',
    path: 'redrive',
    explain: 'The run is put back on the board and runs again from where it failed.',
    danger: false,
  },
];

export const ATOM_ACTIONS: readonly ActionChoice[] = [
  {
    action: 'retry-revert',
    label: 'Retry revert',
    path: 'retry-revert',
    explain: 'The failed revert of this atom runs again.',
    danger: false,
  },
  {
    action: 'skip-revert',
    label: 'Skip revert',
    path: 'skip-revert',
    explain:
      'This atom counts as reverted without running its revert again; undo by hand whatever it did.',
    danger: true,
  },
  {
    action: 'resolve',
    label: 'Resolve with a result',
    path: 'resolve',
    explain: 'This atom counts as succeeded with the result you give, and the run continues.',
    danger: true,
  },
];

/** The run actions to show: those the run's `allowedActions` lists (none when it has none). */
export function runActionsOf(run: Run): ActionChoice[] {
  const allowed = new Set(run.allowedActions ?? []);
  return RUN_ACTIONS.filter((choice) => allowed.has(choice.action));
}

/**
 * The atom actions to show: the atom's own `allowedActions` when the service sends them, else
 * the run's, for an atom whose revert failed.
 */
export function atomActionsOf(run: Run, atom: Atom): ActionChoice[] {
  const fromRun = new Set(run.allowedActions ?? []);
  const allowed = atom.allowedActions === undefined ? undefined : new Set(atom.allowedActions);
  return ATOM_ACTIONS.filter((choice) => {
    if (allowed !== undefined) return allowed.has(choice.action);
    if (!fromRun.has(choice.action)) return false;
    if (choice.action === 'resolve')
      return atom.state === 'FAILURE' || atom.state === 'REVERT_FAILURE';
    return atom.state === 'REVERT_FAILURE';
  });
}

/** Posts an action; its error says which states would allow it (409) or that the route is absent. */
export async function postAction(
  api: Api,
  runId: string,
  choice: ActionChoice,
  atom: string | undefined,
  body?: unknown,
): Promise<OperatorAction> {
  const base = `/v1/runs/${encodeURIComponent(runId)}`;
  const path =
    atom === undefined
      ? `${base}/${choice.path}`
      : `${base}/atoms/${encodeURIComponent(atom)}/${choice.path}`;
  try {
    const answer = await api.post<{ action: OperatorAction }>(path, body);
    return answer.action;
  } catch (error) {
    if (
      error instanceof ApiError &&
      error.status === 404 &&
      error.problem?.type.endsWith(':not-found')
    ) {
      throw new Error(`This service does not offer "${choice.action}" (no route ${path}).`);
    }
    throw error;
  }
}
