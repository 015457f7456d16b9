import { checkResultShape } from '../core/atom.ts';
import { TaskFlowError } from '../core/errors.ts';
import { Failure } from '../core/failure.ts';
import type { Retry } from '../core/retry.ts';
import { type AtomState, hasRun, isLegalAtomTransition } from '../core/states.ts';
import type { Task } from '../core/task.ts';
import { LiveAtomContext, LiveRevertContext } from './atom-context.ts';
import { type AtomRecord, clearAtomRecord } from './atom-record.ts';
import type { CompiledFlow } from './compile.ts';
import { ignoredBy } from './deciders.ts';
import { Heap } from './heap.ts';
import { type AtomExecutor, InProcessExecutor } from './in-process-executor.ts';
import { resolveInputs } from './inputs.ts';
import { enclosingRetry, type Resolution, resolveFailure } from './resolution.ts';
import type { RunContext } from './run-context.ts';
import { RunEvents } from './run-events.ts';

/** A set of atoms being reverted, and what happens once they all are. */
interface ActiveScope {
  readonly resolution: Resolution;
  readonly flow: CompiledFlow;
  readonly failures: Map<string, Failure>;
  /** Atoms of the scope that ran and are not reverted yet. */
  live: number;
}

interface Completion {
  readonly node: number;
  readonly phase: 'execute' | 'revert';
  readonly ok: boolean;
  readonly value: unknown;
}

interface StepEntry {
  readonly node: number;
  readonly phase: Completion['phase'];
}

/** How a run ended, as the engine reports it. */
export type RunEnd =
  | { readonly state: 'SUCCESS' | 'SUSPENDED' }
  | { readonly state: 'REVERTED' | 'FAILURE'; readonly failures: readonly Failure[] };

/**
 * Schedules one run of a compiled flow: executes atoms whose predecessors are done, resolves
 * failures through retries, reverts newest first, and stops cleanly on suspend. All state
 * changes happen on this one loop; atom code runs concurrently up to the concurrency limit.
 */
export class Runner {
  readonly #ctx: RunContext;
  readonly #waiting: Int32Array;
  readonly #done: Uint8Array;
  readonly #queued: Uint8Array;
  readonly #liveSuccessors: Int32Array;
  readonly #scopeOf: (ActiveScope | undefined)[];
  readonly #ready: Heap;
  readonly #reverts: Heap;
  readonly #completions: Completion[] = [];
  #completionHead = 0;
  #turnsWithoutYield = 0;
  #inflight = 0;
  #wake: (() => void) | undefined;
  #completedSeq = 0;
  #suspending = false;
  /**
   * With concurrency 1, the atoms of the current step (TaskFlow's serial engine): every atom
   * ready when the step began, in the order they run; the next step starts when it is empty.
   */
  #step: StepEntry[] = [];
  #stepHead = 0;
  /** Failures of this step held back until it ends (without `failFast`, as TaskFlow). */
  readonly #heldFailures: Completion[] = [];
  /** Failures of retries' flows reverted under `revertScope: 'subflow'`; the run goes on. */
  readonly #subflowFailures: Failure[] = [];
  /** The reverts that were ready when the first revert failed: they still run. */
  readonly #drainAfterRevertFailure = new Set<number>();
  /** Set when no atom may start anywhere: a revert failed, halt-on-failure, or the run is ending reverted. */
  #stopping = false;
  #endedReverted: Failure[] | undefined;
  readonly #haltFailures: Failure[] = [];
  readonly #revertFailures: Failure[] = [];
  readonly #scopes = new Set<ActiveScope>();
  #revertStartedAt: number | undefined;
  readonly #events: RunEvents;
  readonly #executor: AtomExecutor;

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
    this.#events = new RunEvents(ctx.bus, ctx.checkpoint);
    this.#executor = new InProcessExecutor(ctx.clock);
    const n = ctx.graph.nodes.length;
    this.#waiting = new Int32Array(n);
    this.#done = new Uint8Array(n);
    this.#queued = new Uint8Array(n);
    this.#liveSuccessors = new Int32Array(n);
    this.#scopeOf = new Array(n).fill(undefined);
    const records = ctx.records;
    const byPriority = (a: number, b: number): boolean => {
      const pa = records[a]?.atom.priority ?? 0;
      const pb = records[b]?.atom.priority ?? 0;
      return pa !== pb ? pa > pb : a < b;
    };
    this.#ready = new Heap(byPriority);
    this.#reverts = new Heap(
      ctx.revertOrder === 'priority'
        ? byPriority
        : (a, b) => (records[a]?.completedSeq ?? 0) > (records[b]?.completedSeq ?? 0),
    );
  }

  /** Asks the run to stop starting atoms; those running finish. */
  suspend(): void {
    this.#suspending = true;
  }

  async run(): Promise<RunEnd> {
    await this.#prepare();
    await this.#loop();
    return this.#end();
  }

  // ---- preparing from the records (a fresh run, a continued one, or one loaded after a crash) ----

  async #prepare(): Promise<void> {
    const { graph, records } = this.#ctx;
    for (const record of records)
      if (record && record.completedSeq > this.#completedSeq)
        this.#completedSeq = record.completedSeq;
    for (const index of graph.topoOrder) {
      const node = graph.nodes[index];
      if (!node) continue;
      let waiting = 0;
      for (const p of node.predecessors) if (this.#done[p] === 0) waiting++;
      this.#waiting[index] = waiting;
      const record = records[index];
      this.#done[index] = record
        ? record.state === 'SUCCESS' || record.state === 'IGNORE'
          ? 1
          : 0
        : waiting === 0
          ? 1
          : 0;
      if (record?.state === 'REVERT_FAILURE') {
        this.#stopping = true;
        if (record.revertFailure) this.#revertFailures.push(record.revertFailure);
      }
    }
    for (const index of graph.atoms) {
      const record = records[index];
      if (record?.intention === 'RETRY')
        await this.#openScope({ kind: 'retry', retry: index }, new Map());
    }
    const leftover = graph.atoms.filter((i) => {
      const r = records[i];
      return (
        r &&
        r.intention === 'REVERT' &&
        this.#scopeOf[i] === undefined &&
        (hasRun(r.state) || r.state === 'REVERTED')
      );
    });
    if (leftover.length > 0)
      await this.#openScope({ kind: 'all', byDefault: true }, this.#storedFailures());
    for (const index of graph.atoms) {
      const record = records[index];
      if (!record || this.#waiting[index] !== 0 || this.#scopeOf[index]) continue;
      if (record.state === 'PENDING' || record.state === 'RUNNING' || record.state === 'RETRYING')
        this.#onReady(index);
    }
    for (const index of graph.atoms) {
      const record = records[index];
      if (record?.state === 'FAILURE' && record.intention === 'EXECUTE' && record.failure) {
        await this.#onFailed(index, record.failure);
      }
    }
  }

  #storedFailures(): Map<string, Failure> {
    const failures = new Map<string, Failure>();
    for (const index of this.#ctx.graph.atoms) {
      const record = this.#ctx.records[index];
      if (record?.failure) failures.set(record.atom.name, record.failure);
    }
    return failures;
  }

  // ---- the loop ----

  async #loop(): Promise<void> {
    for (;;) {
      while (this.#completionHead < this.#completions.length) {
        const completion = this.#completions[this.#completionHead++] as Completion;
        if (this.#holdsBack(completion)) this.#heldFailures.push(completion);
        else await this.#complete(completion);
      }
      this.#completions.length = 0;
      this.#completionHead = 0;
      await this.#startWork();
      if (this.#completions.length > 0) {
        // Synchronous atoms finish without ever giving the event loop a turn; let timers and
        // I/O (a suspend() from a timer, a heartbeat) in now and then.
        if (++this.#turnsWithoutYield >= 1024) {
          this.#turnsWithoutYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        continue;
      }
      // What finished is written before waiting on what still runs, so a crash while a long
      // atom runs never loses the results of atoms that already finished.
      const flushing = this.#events.flush();
      if (flushing) await flushing;
      if (this.#completions.length > 0) continue;
      if (this.#inflight === 0) {
        if (this.#heldFailures.length === 0) return;
        await this.#endStep();
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Without `failFast`, a serial step's failed executions are resolved when the step ends. */
  #holdsBack(completion: Completion): boolean {
    return (
      !completion.ok &&
      completion.phase === 'execute' &&
      !this.#ctx.failFast &&
      this.#ctx.concurrency === 1
    );
  }

  #deliver(completion: Completion): void {
    this.#completions.push(completion);
    this.#inflight--;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #startWork(): Promise<void> {
    if (this.#ctx.concurrency === 1) {
      await this.#startStepWork();
      return;
    }
    while (this.#canStart()) {
      const next = this.#nextRevert();
      if (next === undefined) break;
      await this.#startRevert(next);
    }
    while (this.#canStart() && !this.#stopping) {
      const next = this.#ready.pop();
      if (next === undefined) break;
      this.#queued[next] = 0;
      if (this.#canExecute(next)) await this.#startExecute(next);
    }
  }

  /**
   * Serial runs go in TaskFlow's steps: take every atom ready now, run them one after another
   * by priority, and only then start what they made ready. A failure is resolved at once with
   * `failFast` (the default), so atoms of the step that its resolution reverts do not start;
   * without it, at the end of the step. With `revertOrder: 'priority'` reverts are part of the
   * steps as in TaskFlow; by default a revert is a step of its own, the newest ready one, so
   * that serial reverts go in exact reverse completion order.
   */
  async #startStepWork(): Promise<void> {
    while (this.#canStart()) {
      if (this.#stepHead >= this.#step.length) {
        await this.#endStep();
        if (this.#completions.length > 0) return;
        if (!this.#beginStep()) return;
      }
      const entry = this.#step[this.#stepHead++] as StepEntry;
      if (entry.phase === 'revert') await this.#startRevert(entry.node);
      else if (!this.#stopping && this.#canExecute(entry.node))
        await this.#startExecute(entry.node);
    }
  }

  #beginStep(): boolean {
    const reverts: StepEntry[] = [];
    const executes: StepEntry[] = [];
    const priority = this.#ctx.revertOrder === 'priority';
    for (let next = this.#nextRevert(); next !== undefined; next = this.#nextRevert()) {
      reverts.push({ node: next, phase: 'revert' });
      if (!priority) {
        this.#step = reverts;
        this.#stepHead = 0;
        return true;
      }
    }
    if (!this.#stopping) {
      for (let next = this.#ready.pop(); next !== undefined; next = this.#ready.pop()) {
        this.#queued[next] = 0;
        if (this.#canExecute(next)) executes.push({ node: next, phase: 'execute' });
      }
    }
    this.#step = priority
      ? mergeByPriority(reverts, executes, this.#ctx.records)
      : [...reverts, ...executes];
    this.#stepHead = 0;
    return this.#step.length > 0;
  }

  /** Resolves the failures held back during the step that just ended. */
  async #endStep(): Promise<void> {
    if (this.#heldFailures.length === 0) return;
    const held = this.#heldFailures.splice(0);
    for (const completion of held) await this.#complete(completion);
  }

  /**
   * Whether an atom taken from the ready queue may start: a queue entry can be stale when a
   * retry reset its flow after it was queued, so readiness is checked again here.
   */
  #canExecute(index: number): boolean {
    const record = this.#ctx.records[index];
    if (!record || this.#scopeOf[index] || this.#waiting[index] !== 0) return false;
    const { state } = record;
    return state === 'PENDING' || state === 'RUNNING' || state === 'RETRYING';
  }

  /** Room to start one more atom; a finished atom must be processed first (it may have failed). */
  #canStart(): boolean {
    return (
      this.#inflight < this.#ctx.concurrency && !this.#suspending && this.#completions.length === 0
    );
  }

  /**
   * The next atom to revert. After a revert failed no new revert starts, but those that were
   * ready when it failed still run: every independent atom that can be compensated is.
   */
  #nextRevert(): number | undefined {
    if (this.#haltFailures.length > 0) return undefined;
    for (let next = this.#reverts.pop(); next !== undefined; next = this.#reverts.pop()) {
      this.#queued[next] = 0;
      if (this.#revertFailures.length === 0 || this.#drainAfterRevertFailure.has(next)) return next;
    }
    return undefined;
  }

  // ---- executing ----

  async #startExecute(index: number): Promise<void> {
    const record = this.#ctx.records[index] as AtomRecord;
    const { atom } = record;
    const from = record.state;
    const delayMs =
      from === 'RETRYING' ? (atom as Retry).delayMs(record.history, this.#ctx.random) : 0;
    if (from !== 'RUNNING') this.#setState(record, 'RUNNING');
    record.intention = 'EXECUTE';
    record.attempts++;
    this.#ctx.statistics.executed++;
    this.#ctx.checkpoint.stage(record);
    const flushing = this.#events.flush();
    if (flushing) await flushing;
    if (this.#suspending && from === 'PENDING') {
      // A listener suspended the run on what that write published (the previous atom's end):
      // this atom's code has not started, so it goes back to PENDING.
      await this.#unstart(record);
      return;
    }
    const admitted = this.#ctx.checkpoint.admit();
    if (admitted !== true && !(await this.#admitAfterRenewal(admitted))) return;
    this.#events.atomChanged(record, from);
    this.#events.progress(record, 0);
    this.#events.release();
    let inputs: Record<string, unknown>;
    try {
      inputs = resolveInputs(this.#ctx, index, false);
    } catch (error) {
      this.#inflight++;
      this.#deliver({ node: index, phase: 'execute', ok: false, value: error });
      return;
    }
    const context = new LiveAtomContext(
      record,
      this.#ctx.runId,
      this.#events.reportedProgress,
      this.#ctx.checkpoint.fence(),
    );
    const call =
      atom.kind === 'task'
        ? () => (atom as Task).execute(inputs, context)
        : () => (atom as Retry).execute(record.history, inputs, context);
    this.#launch(index, 'execute', call, context, delayMs);
  }

  /**
   * Atom code starts only while the lease is certainly held (see lease-keeper.ts); when the
   * checkpoint had to renew it first, this waits for that. When it fails, the run stops starting work at once; the atom's intention stays on disk
   * for whoever holds the lease now, and nothing more is written under the doubtful lease.
   */
  async #admitAfterRenewal(renewal: Promise<boolean>): Promise<boolean> {
    if (await renewal) return true;
    this.#suspending = true;
    return false;
  }

  /** Takes back the RUNNING intention of an atom whose code never started. */
  async #unstart(record: AtomRecord): Promise<void> {
    clearAtomRecord(record);
    record.attempts--;
    this.#ctx.statistics.executed--;
    this.#ctx.checkpoint.stage(record);
    const flushing = this.#events.flush();
    if (flushing) await flushing;
  }

  #launch(
    index: number,
    phase: Completion['phase'],
    call: () => unknown,
    context: LiveAtomContext,
    delayMs: number,
  ): void {
    this.#inflight++;
    const { atom } = this.#ctx.records[index] as AtomRecord;
    this.#executor.run(
      { atom: atom.name, call, context, timeoutMs: (atom as Task).timeoutMs, delayMs },
      (ok, value) => this.#deliver({ node: index, phase, ok, value }),
    );
  }

  async #complete(completion: Completion): Promise<void> {
    const record = this.#ctx.records[completion.node] as AtomRecord;
    if (completion.phase === 'revert') {
      await this.#completeRevert(record, completion);
      return;
    }
    record.completedSeq = ++this.#completedSeq;
    // A result that lacks a position or key its atom provides, or cannot be stored, fails it.
    const unstorable = completion.ok
      ? (checkResultShape(record.atom, completion.value) ??
        this.#ctx.checkpoint.unstorable(record.atom.name, completion.value))
      : undefined;
    if (!completion.ok || unstorable) {
      const failure = Failure.from(unstorable ?? completion.value);
      record.failure = failure;
      record.hasResult = false;
      this.#setState(record, 'FAILURE');
      this.#ctx.statistics.failed++;
      this.#ctx.checkpoint.stage(record);
      this.#events.atomChanged(record, 'RUNNING', { failure });
      await this.#onFailed(completion.node, failure);
      return;
    }
    record.result = completion.value;
    record.hasResult = true;
    record.failure = undefined;
    record.progress = 1;
    if (record.atom.kind === 'retry')
      record.history.push({ result: completion.value, failures: {} });
    this.#setState(record, 'SUCCESS');
    this.#ctx.statistics.succeeded++;
    this.#ctx.checkpoint.stage(record);
    this.#events.progress(record, 1);
    this.#events.atomChanged(record, 'RUNNING', { result: completion.value });
    const scope = this.#scopeOf[completion.node];
    if (scope) this.#offerRevert(completion.node);
    else this.#markDone(completion.node);
  }

  /** A node is done (SUCCESS or IGNORE, or a virtual node whose predecessors are): release successors. */
  #markDone(start: number): void {
    const stack = [start];
    while (stack.length > 0) {
      const index = stack.pop() as number;
      this.#done[index] = 1;
      for (const next of this.#ctx.graph.nodes[index]?.successors ?? []) {
        if (--(this.#waiting[next] as number) === 0 && this.#onReady(next)) stack.push(next);
      }
    }
  }

  /** Called when all predecessors of a node are done; returns true when the node is done at once. */
  #onReady(index: number): boolean {
    const { graph, records } = this.#ctx;
    const node = graph.nodes[index];
    if (!node) return false;
    if (node.deciders.length > 0) {
      const ignored = ignoredBy(graph, records, index, this.#ctx.reportError);
      for (const atomIndex of ignored) this.#ignore(atomIndex);
    }
    const record = records[index];
    if (!record) return true;
    if (record.state === 'IGNORE') return true;
    if (this.#scopeOf[index] === undefined) this.#enqueue(index);
    return false;
  }

  #ignore(index: number): void {
    const record = this.#ctx.records[index];
    if (record?.state !== 'PENDING') return;
    this.#setState(record, 'IGNORE');
    record.intention = 'IGNORE';
    this.#ctx.statistics.ignored++;
    this.#ctx.checkpoint.stage(record);
    this.#events.atomChanged(record, 'PENDING');
  }

  // ---- failures and their resolution ----

  async #onFailed(index: number, failure: Failure): Promise<void> {
    const record = this.#ctx.records[index] as AtomRecord;
    if (this.#ctx.haltOnFailure) {
      this.#haltFailures.push(failure);
      this.#stopping = true;
      return;
    }
    const scope = this.#scopeOf[index];
    if (!scope) {
      const resolution = resolveFailure(this.#ctx, index, failure, this.#events.publish);
      await this.#openScope(resolution, new Map([[record.atom.name, failure]]));
      return;
    }
    // The failure lands in a revert already under way. A retry around the atom still resolves
    // it, as TaskFlow asks for every failure: the failure joins its history, and a decision
    // that covers more than the revert under way (REVERT_ALL after a RETRY, say) widens it.
    scope.failures.set(record.atom.name, failure);
    if (enclosingRetry(this.#ctx.graph, index) !== undefined) {
      const resolution = resolveFailure(this.#ctx, index, failure, this.#events.publish);
      const flow = this.#flowOf(resolution);
      if (flow !== scope.flow && isInside(scope.flow, flow)) {
        await this.#openScope(resolution, new Map([[record.atom.name, failure]]));
      }
    }
    this.#offerRevert(index);
  }

  #flowOf(resolution: Resolution): CompiledFlow {
    return resolution.kind === 'all'
      ? this.#ctx.graph.root
      : (this.#ctx.graph.nodes[resolution.retry] as { flow: CompiledFlow }).flow;
  }

  /** Starts reverting the atoms a resolution covers; atoms still running join once they finish. */
  async #openScope(resolution: Resolution, failures: Map<string, Failure>): Promise<void> {
    const { graph, records } = this.#ctx;
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
    // Reverting a retry's flow (to retry it, or under revertScope 'subflow') leaves the
    // branches that do not depend on it running; only reverting everything stops the run.
    if (resolution.kind === 'all') this.#stopping = true;
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
        this.#ctx.checkpoint.stage(record);
      }
      if (record && hasRun(record.state)) scope.live++;
    }
    if (resolution.kind === 'retry') {
      const retry = records[resolution.retry] as AtomRecord;
      retry.intention = 'RETRY';
      this.#ctx.checkpoint.stage(retry);
    }
    for (const index of members)
      if (records[index]?.state === 'REVERTING') this.#queueRevert(index);
    for (const index of members) this.#offerRevert(index);
    if (scope.live === 0) await this.#closeScope(scope);
  }

  #isLive(index: number): boolean {
    const record = this.#ctx.records[index];
    return record ? hasRun(record.state) : (this.#liveSuccessors[index] as number) > 0;
  }

  /** Queues an atom of a scope for revert once nothing after it still has to be reverted. */
  #offerRevert(index: number): void {
    const record = this.#ctx.records[index];
    if (!record || this.#liveSuccessors[index] !== 0) return;
    if (record.state === 'SUCCESS' || record.state === 'FAILURE') this.#queueRevert(index);
  }

  #queueRevert(index: number): void {
    if (this.#queued[index] === 2) return;
    this.#queued[index] = 2;
    this.#reverts.push(index);
  }

  // ---- reverting ----

  async #startRevert(index: number): Promise<void> {
    const record = this.#ctx.records[index] as AtomRecord;
    const scope = this.#scopeOf[index];
    if (
      !scope ||
      (record.state !== 'SUCCESS' && record.state !== 'FAILURE' && record.state !== 'REVERTING')
    )
      return;
    const from = record.state;
    if (from !== 'REVERTING') this.#setState(record, 'REVERTING');
    this.#ctx.checkpoint.stage(record);
    const flushing = this.#events.flush();
    if (flushing) await flushing;
    // Suspended on what that write published: a REVERTING atom is reverted on the next run.
    if (this.#suspending) return;
    const admitted = this.#ctx.checkpoint.admit();
    if (admitted !== true && !(await this.#admitAfterRenewal(admitted))) return;
    this.#events.atomChanged(record, from);
    this.#events.progress(record, 0);
    this.#events.release();
    const inputs = resolveInputs(this.#ctx, index, true);
    const { atom } = record;
    const context = new LiveRevertContext(
      record,
      this.#ctx.runId,
      this.#events.reportedProgress,
      this.#ctx.checkpoint.fence(),
      new Map(scope.failures),
    );
    const call =
      atom.kind === 'task'
        ? () => (atom as Task).revert(inputs, context)
        : () => (atom as Retry).revert(record.history, inputs, context);
    this.#launch(index, 'revert', call, context, 0);
  }

  async #completeRevert(record: AtomRecord, completion: Completion): Promise<void> {
    const scope = this.#scopeOf[completion.node] as ActiveScope;
    if (!completion.ok) {
      const failure = Failure.from(completion.value);
      record.revertFailure = failure;
      this.#setState(record, 'REVERT_FAILURE');
      if (this.#revertFailures.length === 0)
        for (const index of this.#reverts.values()) this.#drainAfterRevertFailure.add(index);
      this.#revertFailures.push(failure);
      this.#stopping = true;
      this.#ctx.checkpoint.stage(record);
      this.#events.atomChanged(record, 'REVERTING', { failure });
      return;
    }
    record.revertResult = completion.value;
    record.hasResult = false;
    record.progress = 1;
    if (record.atom.kind === 'retry') record.history = [];
    this.#setState(record, 'REVERTED');
    this.#ctx.statistics.reverted++;
    this.#ctx.checkpoint.stage(record);
    this.#events.progress(record, 1);
    this.#events.atomChanged(record, 'REVERTING', { result: completion.value });
    scope.live--;
    this.#releasePredecessors(completion.node, scope);
    if (scope.live === 0 && this.#scopes.has(scope)) await this.#closeScope(scope);
  }

  #releasePredecessors(start: number, scope: ActiveScope): void {
    const stack = [start];
    while (stack.length > 0) {
      const index = stack.pop() as number;
      for (const prev of this.#ctx.graph.nodes[index]?.predecessors ?? []) {
        if (this.#scopeOf[prev] !== scope) continue;
        if (--(this.#liveSuccessors[prev] as number) !== 0) continue;
        if (this.#ctx.records[prev]) this.#offerRevert(prev);
        else stack.push(prev);
      }
    }
  }

  async #closeScope(scope: ActiveScope): Promise<void> {
    this.#scopes.delete(scope);
    if (this.#scopes.size === 0 && this.#revertStartedAt !== undefined) {
      this.#ctx.statistics.revertMs += this.#ctx.clock.now() - this.#revertStartedAt;
      this.#revertStartedAt = undefined;
    }
    const { resolution } = scope;
    switch (resolution.kind) {
      case 'all':
        this.#endedReverted = [...scope.failures.values()];
        return;
      case 'subflow':
        this.#subflowFailures.push(...scope.failures.values());
        return;
      case 'retry':
        await this.#restartRetry(scope, resolution.retry);
        return;
    }
  }

  /** The retry decided RETRY and its flow is reverted: reset the flow and run the retry again. */
  async #restartRetry(scope: ActiveScope, retryIndex: number): Promise<void> {
    const { graph, records } = this.#ctx;
    const retry = records[retryIndex] as AtomRecord;
    if (retry.state !== 'RETRYING') {
      this.#setState(retry, 'RETRYING');
      this.#ctx.statistics.retried++;
      this.#ctx.checkpoint.stage(retry);
      this.#events.atomChanged(retry, 'SUCCESS');
    }
    this.#done[retryIndex] = 0;
    const members = scope.flow.nodes.filter((i) => i !== retryIndex && i !== scope.flow.start);
    members.sort((a, b) => (graph.topoRank[a] ?? 0) - (graph.topoRank[b] ?? 0));
    for (const index of members) {
      this.#scopeOf[index] = undefined;
      this.#done[index] = 0;
      const record = records[index];
      if (record && record.state !== 'PENDING') {
        const from = record.state;
        this.#setState(record, 'PENDING');
        clearAtomRecord(record);
        this.#ctx.checkpoint.stage(record);
        this.#events.atomChanged(record, from);
      }
    }
    for (const index of members) {
      let waiting = 0;
      for (const p of graph.nodes[index]?.predecessors ?? []) if (this.#done[p] === 0) waiting++;
      this.#waiting[index] = waiting;
    }
    this.#enqueue(retryIndex);
  }

  #enqueue(index: number): void {
    if (this.#queued[index] !== 0) return;
    this.#queued[index] = 1;
    this.#ready.push(index);
  }

  // ---- state changes and events ----

  #setState(record: AtomRecord, to: AtomState): void {
    if (!isLegalAtomTransition(record.atom.kind, record.state, to)) {
      throw new TaskFlowError(
        'INVALID_TRANSITION',
        `Atom "${record.atom.name}" cannot move from ${record.state} to ${to}; this is a bug in the engine, please report it.`,
      );
    }
    record.state = to;
  }

  #end(): RunEnd {
    if (this.#revertFailures.length > 0)
      return { state: 'FAILURE', failures: this.#revertFailures };
    if (this.#haltFailures.length > 0) return { state: 'FAILURE', failures: this.#haltFailures };
    if (this.#endedReverted) return { state: 'REVERTED', failures: this.#endedReverted };
    if (this.#subflowFailures.length > 0 && !this.#suspending)
      return { state: 'REVERTED', failures: this.#subflowFailures };
    const { graph, records } = this.#ctx;
    const finished = graph.atoms.every((i) => {
      const state = records[i]?.state;
      return state === 'SUCCESS' || state === 'IGNORE';
    });
    return { state: finished ? 'SUCCESS' : 'SUSPENDED' };
  }
}

/** One step in TaskFlow's order: by priority whatever the phase, ties in definition order. */
function mergeByPriority(
  a: readonly StepEntry[],
  b: readonly StepEntry[],
  records: readonly (AtomRecord | undefined)[],
): StepEntry[] {
  const priority = (entry: StepEntry): number => records[entry.node]?.atom.priority ?? 0;
  return [...a, ...b].sort((x, y) => priority(y) - priority(x) || x.node - y.node);
}

function isInside(inner: CompiledFlow, outer: CompiledFlow): boolean {
  for (let f: CompiledFlow | undefined = inner; f; f = f.parent) if (f === outer) return true;
  return false;
}
