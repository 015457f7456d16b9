import type { Failure } from '../core/failure.ts';
import { hasRun } from '../core/states.ts';
import type { CompiledFlow } from './compile.ts';
import type { Resolution } from './resolution.ts';
import type { RunContext } from './run-context.ts';
import type { Scheduler } from './scheduler.ts';

/** A set of atoms being reverted, and what happens once they all are. */
export interface ActiveScope {
  readonly resolution: Resolution;
  /** The flow whose atoms the revert covers: a retry's flow, or the root flow. */
  readonly flow: CompiledFlow;
  /** The failures the revert resolves, by atom name; reverts are handed them. */
  readonly failures: Map<string, Failure>;
  /** Atoms of the scope that ran and are not reverted yet. */
  live: number;
}

/**
 * Which atoms the reverts under way cover (see docs/semantics.md, "Failure, revert, retry"):
 * a failure's resolution covers a retry's flow (to retry it, or under `revertScope: 'subflow'`)
 * or the whole flow; a wider resolution absorbs the narrower scopes inside it. Within a scope an
 * atom is offered for revert once every successor of it in the scope that ran is reverted, so
 * reverts go newest first. It sets intentions; the runner changes states.
 */
export class RevertScopes {
  readonly #ctx: RunContext;
  readonly #scheduler: Pick<Scheduler, 'queueRevert'>;
  /** Per node: the scope reverting it, if any. */
  readonly #scopeOf: (ActiveScope | undefined)[];
  /** Per node: how many of its successors in its scope have still to be reverted. */
  readonly #liveSuccessors: Int32Array;
  readonly #scopes = new Set<ActiveScope>();
  #revertStartedAt: number | undefined;

  constructor(ctx: RunContext, scheduler: Pick<Scheduler, 'queueRevert'>) {
    this.#ctx = ctx;
    this.#scheduler = scheduler;
    const n = ctx.graph.nodes.length;
    this.#scopeOf = new Array(n).fill(undefined);
    this.#liveSuccessors = new Int32Array(n);
  }

  /** The scope reverting the node, or undefined. */
  scopeOf(index: number): ActiveScope | undefined {
    return this.#scopeOf[index];
  }

  /** Whether a revert under way covers the node. */
  covers(index: number): boolean {
    return this.#scopeOf[index] !== undefined;
  }

  /** Whether the scope is still under way (not closed, nor absorbed by a wider one). */
  isOpen(scope: ActiveScope): boolean {
    return this.#scopes.has(scope);
  }

  /** Whether a resolution covers more than a scope under way, so that it must be widened. */
  widens(scope: ActiveScope, resolution: Resolution): boolean {
    const flow = this.#flowOf(resolution);
    return flow !== scope.flow && isInside(scope.flow, flow);
  }

  /**
   * Opens the scope a resolution covers: narrower scopes inside it are absorbed with their
   * failures, its atoms that ran get the REVERT intention (the retry, RETRY) and those with no
   * successor left to revert are queued. Atoms still running join once they finish. The caller
   * closes the scope when `live` is 0.
   */
  open(resolution: Resolution, failures: Map<string, Failure>): ActiveScope {
    const { graph, records, checkpoint } = this.#ctx;
    const flow = this.#flowOf(resolution);
    const scope: ActiveScope = { resolution, flow, failures, live: 0 };
    for (const other of [...this.#scopes]) {
      if (isInside(other.flow, flow)) {
        for (const [name, failure] of other.failures)
          if (!failures.has(name)) failures.set(name, failure);
        this.#scopes.delete(other);
      }
    }
    this.#scopes.add(scope);
    this.#revertStartedAt ??= this.#ctx.clock.now();
    const members = flow.nodes.filter(
      (i) => !(resolution.kind === 'retry' && i === resolution.retry),
    );
    members.sort((a, b) => (graph.topoRank[b] ?? 0) - (graph.topoRank[a] ?? 0));
    const memberSet = new Set(members);
    for (const index of members) {
      this.#scopeOf[index] = scope;
      let live = 0;
      for (const next of graph.nodes[index]?.successors ?? [])
        if (memberSet.has(next) && this.#isLive(next)) live++;
      this.#liveSuccessors[index] = live;
      const record = records[index];
      if (
        record &&
        (hasRun(record.state) || record.state === 'REVERTED') &&
        record.intention !== 'REVERT'
      ) {
        record.intention = 'REVERT';
        checkpoint.stage(record);
      }
      if (record && hasRun(record.state)) scope.live++;
    }
    if (resolution.kind === 'retry') {
      const retry = records[resolution.retry];
      if (retry) {
        retry.intention = 'RETRY';
        checkpoint.stage(retry);
      }
    }
    for (const index of members)
      if (records[index]?.state === 'REVERTING') this.#scheduler.queueRevert(index);
    for (const index of members) this.offerRevert(index);
    return scope;
  }

  /** Queues an atom of a scope for revert once nothing after it still has to be reverted. */
  offerRevert(index: number): void {
    const record = this.#ctx.records[index];
    if (!record || this.#liveSuccessors[index] !== 0) return;
    if (record.state === 'SUCCESS' || record.state === 'FAILURE')
      this.#scheduler.queueRevert(index);
  }

  /**
   * An atom of the scope is reverted: offers its predecessors in the scope whose successors are
   * all reverted now. Returns true when that was the scope's last atom and it is to be closed.
   */
  reverted(start: number, scope: ActiveScope): boolean {
    scope.live--;
    const stack = [start];
    for (let index = stack.pop(); index !== undefined; index = stack.pop()) {
      for (const prev of this.#ctx.graph.nodes[index]?.predecessors ?? []) {
        if (this.#scopeOf[prev] !== scope) continue;
        const live = (this.#liveSuccessors[prev] ?? 0) - 1;
        this.#liveSuccessors[prev] = live;
        if (live !== 0) continue;
        if (this.#ctx.records[prev]) this.offerRevert(prev);
        else stack.push(prev);
      }
    }
    return scope.live === 0 && this.#scopes.has(scope);
  }

  /** Closes a scope whose atoms are all reverted, and counts the time reverting took. */
  close(scope: ActiveScope): void {
    this.#scopes.delete(scope);
    if (this.#scopes.size === 0 && this.#revertStartedAt !== undefined) {
      this.#ctx.statistics.revertMs += this.#ctx.clock.now() - this.#revertStartedAt;
      this.#revertStartedAt = undefined;
    }
  }

  /**
   * A retry's flow is reverted and runs again: its atoms (the flow's start and the retry
   * itself excepted) leave the scope. Returns them in topological order.
   */
  release(scope: ActiveScope, retry: number): number[] {
    const { graph } = this.#ctx;
    const members = scope.flow.nodes.filter((i) => i !== retry && i !== scope.flow.start);
    members.sort((a, b) => (graph.topoRank[a] ?? 0) - (graph.topoRank[b] ?? 0));
    for (const index of members) this.#scopeOf[index] = undefined;
    return members;
  }

  #flowOf(resolution: Resolution): CompiledFlow {
    const { graph } = this.#ctx;
    return resolution.kind === 'all'
      ? graph.root
      : (graph.nodes[resolution.retry]?.flow ?? graph.root);
  }

  #isLive(index: number): boolean {
    const record = this.#ctx.records[index];
    return record ? hasRun(record.state) : (this.#liveSuccessors[index] ?? 0) > 0;
  }
}

function isInside(inner: CompiledFlow, outer: CompiledFlow): boolean {
  for (let f: CompiledFlow | undefined = inner; f; f = f.parent) if (f === outer) return true;
  return false;
}
