import { allowedRunActions } from '../conductor/run-actions.ts';
import type { FailureJson } from '../core/failure.ts';
import type { OperatorAction } from '../core/operator-request.ts';
import { auditList } from '../engine/durable-run.ts';
import type { Job } from '../jobs/model.ts';
import type { AtomDetail, FlowDetail } from '../persistence/model.ts';
import { ProblemError } from './problem.ts';

// What the API shows of runs: the persisted records, without stack traces (they describe the
// server's code, not the client's request).

/** A failure and its cause chain, without stacks. */
export function failureView(failure: FailureJson): Omit<FailureJson, 'stack'> {
  const { stack: _stack, cause, ...rest } = failure;
  return cause === undefined ? rest : { ...rest, cause: failureView(cause) };
}

export function atomView(atom: AtomDetail, allowedActions: readonly OperatorAction[] = []) {
  const { failure, revertFailure, history, ...rest } = atom;
  return {
    ...rest,
    allowedActions: [...allowedActions],
    ...(failure === undefined ? {} : { failure: failureView(failure) }),
    ...(revertFailure === undefined ? {} : { revertFailure: failureView(revertFailure) }),
    ...(history === undefined
      ? {}
      : {
          history: history.map((attempt) => ({
            result: attempt.result,
            failures: Object.fromEntries(
              Object.entries(attempt.failures).map(([name, f]) => [name, failureView(f)]),
            ),
          })),
        }),
  };
}

export function runSummaryView(flow: FlowDetail) {
  return {
    id: flow.id,
    name: flow.name,
    state: flow.state,
    flow: flow.factory ?? null,
    createdAt: flow.createdAt,
    updatedAt: flow.updatedAt,
  };
}

/**
 * A run with its atoms and the job that carries it. A run posted but not yet claimed by a
 * conductor has no flow detail yet: it shows as PENDING, from its job.
 */
export function runView(
  run: { readonly flow: FlowDetail; readonly atoms: readonly AtomDetail[] } | undefined,
  job: Job | undefined,
) {
  const allowed = allowedRunActions(run, job);
  if (run === undefined) {
    if (job === undefined) throw new Error('runView needs a run or its job');
    return {
      id: job.id,
      name: job.flow.name,
      state: 'PENDING' as const,
      flow: job.flow,
      createdAt: job.createdAt,
      updatedAt: job.updatedAt,
      inputs: job.store,
      meta: {},
      atoms: [],
      job,
      allowedActions: allowed.run,
      actions: [],
    };
  }
  return {
    ...runSummaryView(run.flow),
    inputs: run.flow.store,
    meta: run.flow.meta,
    atoms: run.atoms.map((atom) => atomView(atom, allowed.atoms.get(atom.name))),
    job: job ?? null,
    allowedActions: allowed.run,
    actions: [...auditList(run.flow)],
  };
}

/** Where a run's parts are served. */
export function runLinks(id: string) {
  const self = `/v1/runs/${encodeURIComponent(id)}`;
  return { self, events: `${self}/events`, job: `/v1/jobs/${encodeURIComponent(id)}` };
}

/** The 404 of a run id that has neither a run nor a job. */
export function runNotFound(id: string): ProblemError {
  return new ProblemError(
    404,
    'run-not-found',
    'Run not found',
    `No run has id ${JSON.stringify(id)}; GET /v1/runs lists the runs.`,
  );
}
