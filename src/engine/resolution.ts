import type { Failure } from '../core/failure.ts';
import { RETRY_DECISIONS, type Retry, type RetryDecision } from '../core/retry.ts';
import type { CompiledGraph } from './compile.ts';
import type { EngineEvent } from './events.ts';
import { resolveInputs } from './inputs.ts';
import type { RunContext } from './run-context.ts';

/**
 * What a failure leads to: retry a retry's flow, revert a retry's flow only (TaskFlow's
 * default, kept behind `revertScope: 'subflow'`), or revert everything.
 */
export type Resolution =
  | { readonly kind: 'retry'; readonly retry: number }
  | { readonly kind: 'subflow'; readonly retry: number }
  | { readonly kind: 'all'; readonly byDefault: boolean };

/**
 * Asks the nearest retry around the failed atom what to do. REVERT asks the next retry out,
 * as if the whole inner flow had failed, and records the failure there under the inner retry's name.
 */
export function resolveFailure(
  ctx: RunContext,
  index: number,
  failure: Failure,
  publish: (event: EngineEvent) => void,
  key?: string,
): Resolution {
  const retryIndex = enclosingRetry(ctx.graph, index);
  const record = retryIndex === undefined ? undefined : ctx.records[retryIndex];
  if (retryIndex === undefined || !record) return { kind: 'all', byDefault: true };
  const name = key ?? ctx.records[index]?.atom.name ?? '';
  const last = record.history.at(-1);
  if (last)
    record.history[record.history.length - 1] = {
      result: last.result,
      failures: { ...last.failures, [name]: failure },
    };
  const decision = decide(ctx, retryIndex);
  if (ctx.bus.active) {
    publish({
      type: 'retry',
      retry: record.atom.name,
      decision,
      attempt: record.history.length,
      failures: Object.values(last?.failures ?? {}).concat(failure),
    });
  }
  switch (decision) {
    case 'RETRY':
      return { kind: 'retry', retry: retryIndex };
    case 'REVERT_ALL':
      return { kind: 'all', byDefault: false };
    case 'REVERT': {
      const outer = resolveFailure(ctx, retryIndex, failure, publish, record.atom.name);
      if (ctx.revertScope === 'enclosing') return outer;
      // TaskFlow's default: an outer retry that decides something other than REVERT wins;
      // otherwise only this retry's flow is reverted and the run ends there.
      if (outer.kind === 'retry' || (outer.kind === 'all' && !outer.byDefault)) return outer;
      return { kind: 'subflow', retry: retryIndex };
    }
  }
}

function decide(ctx: RunContext, retryIndex: number): RetryDecision {
  const record = ctx.records[retryIndex];
  if (!record) return 'REVERT_ALL';
  try {
    const decision = (record.atom as Retry).onFailure(
      record.history,
      resolveInputs(ctx, retryIndex, true),
    );
    if ((RETRY_DECISIONS as readonly string[]).includes(decision)) return decision;
    ctx.reportError(
      new TypeError(
        `Retry "${record.atom.name}" decided ${String(decision)}; return one of ${RETRY_DECISIONS.join(', ')}. Reverting everything.`,
      ),
    );
  } catch (error) {
    ctx.reportError(error);
  }
  return 'REVERT_ALL';
}

/** The retry that handles a failure of this node: the nearest one on an enclosing flow (not its own, for a retry). */
export function enclosingRetry(graph: CompiledGraph, index: number): number | undefined {
  const node = graph.nodes[index];
  if (!node) return undefined;
  let flow = node.flow.retry === index ? node.flow.parent : node.flow;
  for (; flow; flow = flow.parent) if (flow.retry !== undefined) return flow.retry;
  return undefined;
}
