import { checkResultShape } from '../core/atom.ts';
import { TaskFlowError } from '../core/errors.ts';
import { Failure, type JsonValue } from '../core/failure.ts';
import type { Retry } from '../core/retry.ts';
import { type AtomState, hasRun, isLegalAtomTransition } from '../core/states.ts';
import type { Task } from '../core/task.ts';
import { LiveAtomContext, LiveRevertContext } from './atom-context.ts';
import { type AtomRecord, clearAtomRecord } from './atom-record.ts';
import { ignoredBy } from './deciders.ts';
import type { EngineEvent } from './events.ts';
import { resolveInputs } from './inputs.ts';
import { enclosingRetry, type Resolution, resolveFailure } from './resolution.ts';
import { type ActiveScope, RevertScopes } from './revert-scopes.ts';
import type { RunContext } from './run-context.ts';
import { RunEvents } from './run-events.ts';
import { Scheduler, type StepEntry } from './scheduler.ts';

/** The longest a running atom's progress report waits to be written, in ms. */
const PROGRESS_WRITE_MS = 200;

/** The key of an operator's cancel among the failures a revert is handed (no atom's name). */
const CANCELLED = '(cancelled)';

interface Completion {
  readonly node: number;
  readonly phase: StepEntry['phase'];
  readonly ok: boolean;
  readonly value: unknown;
}

/** How a run ended, as the engine reports it. */
export type RunEnd =
  | { readonly state: 'SUCCESS' | 'SUSPENDED' }
  | { readonly state: 'REVERTED' | 'FAILURE'; readonly failures: readonly Failure[] };

/**
 * Coordinates one run of a compiled flow: takes the atoms the scheduler hands out, changes
 * their states, executes and reverts them, resolves failures through retries and the revert
 * scopes, and stops cleanly on suspend. All state changes happen on this one loop; atom code
 * runs concurrently up to the concurrency limit.
 */
export class Runner {
  readonly #ctx: RunContext;
  readonly #scheduler: Scheduler;
  readonly #scopes: RevertScopes;
  readonly #completions: Completion[] = [];
  #completionHead = 0;
  #turnsWithoutYield = 0;
  #inflight = 0;
  #wake: (() => void) | undefined;
  #completedSeq = 0;
  #suspending = false;
  /** Failures of this step held back until it ends (without `failFast`, as TaskFlow). */
  readonly #heldFailures: Completion[] = [];
  /** Failures of retries' flows reverted under `revertScope: 'subflow'`; the run goes on. */
  readonly #subflowFailures: Failure[] = [];
  /** Set when no atom may start anywhere: a revert failed, halt-on-failure, or the run is ending reverted. */
  #stopping = false;
  #endedReverted: Failure[] | undefined;
  readonly #haltFailures: Failure[] = [];
  readonly #revertFailures: Failure[] = [];
  readonly #events: RunEvents;
  /**
   * Progress reports of running atoms, written (when persisted) at most every
   * {@link PROGRESS_WRITE_MS}: `staged` says a write of them waits for the loop.
   */
  readonly #progress: {
    readonly reported: Set<AtomRecord>;
    timer: NodeJS.Timeout | undefined;
    staged: boolean;
  } = { reported: new Set(), timer: undefined, staged: false };
  /** An operator's cancel, taken in at the next turn of the loop. */
  #cancel: { readonly failure: Failure; readonly revert: boolean; taken: boolean } | undefined;

  constructor(ctx: RunContext) {
    this.#ctx = ctx;
    this.#events = new RunEvents(ctx.bus, ctx.checkpoint);
    this.#scheduler = new Scheduler({
      graph: ctx.graph,
      records: ctx.records,
      revertOrder: ctx.revertOrder,
      covered: (index) => this.#scopes.covers(index),
    });
    this.#scopes = new RevertScopes(ctx, this.#scheduler);
  }

  /**
   * Asks the run to stop starting atoms; those running finish. The loop wakes to write what
   * is staged (the SUSPENDING state among it) without waiting for them.
   */
  suspend(): void {
    this.#suspending = true;
    this.#wakeUp();
  }

  /**
   * Asks the run to stop: no atom starts any more, those running finish, and with `revert`
   * everything that ran is reverted (the run ends REVERTED with `failure`); without, the run
   * ends FAILURE with `failure` where it stands. Any retry is bypassed. The first cancel wins.
   */
  cancel(failure: Failure, revert: boolean): void {
    this.#cancel ??= { failure, revert, taken: false };
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Runs the atoms until the run ends or is suspended. The states of the last atoms to finish
   * stay staged: {@link Runner.finish} writes them with the flow's end.
   */
  async run(): Promise<RunEnd> {
    await this.#prepare();
    try {
      await this.#loop();
    } finally {
      clearTimeout(this.#progress.timer);
      this.#progress.timer = undefined;
    }
    return this.#end();
  }

  /**
   * A running atom's own progress report: published at once, and, for a persisted run, staged
   * for a write (of every atom that reported meanwhile) within {@link PROGRESS_WRITE_MS}, so
   * that readers in other processes (the service's event streams) see it too.
   */
  readonly #reportProgress = (
    record: AtomRecord,
    progress: number,
    details: JsonValue | undefined,
  ): void => {
    this.#events.reportedProgress(record, progress, details);
    if (!this.#ctx.checkpoint.durable) return;
    const pending = this.#progress;
    pending.reported.add(record);
    pending.timer ??= setTimeout(() => {
      pending.timer = undefined;
      for (const reported of pending.reported) {
        if (reported.state === 'RUNNING' || reported.state === 'REVERTING')
          this.#ctx.checkpoint.stage(reported);
      }
      pending.reported.clear();
      pending.staged = true;
      this.#wakeUp();
    }, PROGRESS_WRITE_MS);
  };

  /** Publishes an event of the run itself (a flow state change) in order with the atoms' events. */
  readonly publish = (event: EngineEvent): void => this.#events.publish(event);

  /**
   * Writes what the run left staged (with the flow state the engine staged), releasing the lease
   * in the same write when asked, then publishes the events that waited for it.
   */
  async finish(options: { readonly release?: boolean }): Promise<void> {
    await this.#events.flush(options);
  }

  // ---- preparing from the records (a fresh run, a continued one, or one loaded after a crash) ----

  async #prepare(): Promise<void> {
    const { graph, records } = this.#ctx;
    for (const record of records)
      if (record && record.completedSeq > this.#completedSeq)
        this.#completedSeq = record.completedSeq;
    this.#scheduler.prepare();
    for (const index of graph.topoOrder) {
      const record = records[index];
      if (record?.state === 'REVERT_FAILURE') {
        this.#stopping = true;
        this.#scheduler.stopReverts();
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
        !this.#scopes.covers(i) &&
        (hasRun(r.state) || r.state === 'REVERTED')
      );
    });
    if (leftover.length > 0)
      await this.#openScope({ kind: 'all', byDefault: true }, this.#storedFailures());
    for (const index of graph.atoms) {
      const record = records[index];
      if (!record || !this.#scheduler.isReady(index) || this.#scopes.covers(index)) continue;
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
      if (this.#cancel?.taken === false) await this.#takeCancel(this.#cancel);
      for (
        let completion = this.#completions[this.#completionHead];
        completion;
        completion = this.#completions[++this.#completionHead]
      ) {
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
      // Nothing runs or waits: the run is over, and what is staged goes with its end.
      if (this.#inflight === 0 && this.#heldFailures.length === 0) return;
      // What finished is written before waiting on what still runs, so a crash while a long
      // atom runs never loses the results of atoms that already finished.
      this.#progress.staged = false;
      const flushing = this.#events.flush();
      if (flushing) await flushing;
      if (this.#completions.length > 0 || this.#cancel?.taken === false || this.#progress.staged)
        continue;
      if (this.#inflight === 0) {
        await this.#endStep();
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async #takeCancel(cancel: {
    readonly failure: Failure;
    readonly revert: boolean;
    taken: boolean;
  }): Promise<void> {
    cancel.taken = true;
    this.#stopping = true;
    if (!cancel.revert) {
      this.#suspending = true;
      return;
    }
    await this.#openScope(
      { kind: 'all', byDefault: false },
      new Map([[CANCELLED, cancel.failure]]),
    );
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
    this.#wakeUp();
  }

  async #startWork(): Promise<void> {
    if (this.#ctx.concurrency === 1) {
      await this.#startStepWork();
      return;
    }
    while (this.#canStart()) {
      const next = this.#scheduler.nextRevert();
      if (next === undefined) break;
      await this.#startRevert(next);
    }
    while (this.#canStart() && !this.#stopping) {
      const next = this.#scheduler.nextExecution();
      if (next === undefined) break;
      await this.#startExecute(next);
    }
  }

  /**
   * Serial runs go in TaskFlow's steps (see `Scheduler.beginStep`): every atom ready now, one
   * after another, and only then what they made ready. A failure is resolved at once with
   * `failFast` (the default), so atoms of the step that its resolution reverts do not start;
   * without it, at the end of the step.
   */
  async #startStepWork(): Promise<void> {
    while (this.#canStart()) {
      const entry = this.#scheduler.nextInStep() ?? (await this.#nextStep());
      if (!entry) return;
      if (entry.phase === 'revert') await this.#startRevert(entry.node);
      else if (!this.#stopping && this.#scheduler.canExecute(entry.node))
        await this.#startExecute(entry.node);
    }
  }

  /** Ends the serial step and begins the next; undefined when there is nothing to start now. */
  async #nextStep(): Promise<StepEntry | undefined> {
    await this.#endStep();
    if (this.#completions.length > 0) return undefined;
    return this.#scheduler.beginStep(this.#stopping);
  }

  /** Resolves the failures held back during the step that just ended. */
  async #endStep(): Promise<void> {
    if (this.#heldFailures.length === 0) return;
    const held = this.#heldFailures.splice(0);
    for (const completion of held) await this.#complete(completion);
  }

  /** Room to start one more atom; a finished atom must be processed first (it may have failed). */
  #canStart(): boolean {
    return (
      this.#inflight < this.#ctx.concurrency && !this.#suspending && this.#completions.length === 0
    );
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
    if ((this.#suspending || this.#cancel !== undefined) && from === 'PENDING') {
      // A listener suspended the run on what that write published (the previous atom's end),
      // or an operator cancelled it: this atom's code has not started, so it goes back to PENDING.
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
      this.#reportProgress,
      this.#ctx.checkpoint.fence(),
    );
    const call =
      atom.kind === 'task'
        ? () => (atom as Task).execute(inputs, context)
        : () => (atom as Retry).execute(record.history, inputs, context);
    this.#launch(index, 'execute', inputs, call, context, delayMs);
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
    inputs: Record<string, unknown>,
    call: () => unknown,
    context: LiveAtomContext,
    delayMs: number,
  ): void {
    this.#inflight++;
    const { atom } = this.#ctx.records[index] as AtomRecord;
    this.#ctx.executors.for(atom as Task).run(
      {
        atom: atom.name,
        task: { name: atom.name, version: atom.version },
        phase,
        inputs,
        call,
        context,
        timeoutMs: (atom as Task).timeoutMs,
        delayMs,
      },
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
    if (this.#scopes.covers(completion.node)) this.#scopes.offerRevert(completion.node);
    else this.#scheduler.markDone(completion.node, (next) => this.#onReady(next));
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
    if (!this.#scopes.covers(index)) this.#scheduler.enqueue(index);
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
      this.#scheduler.haltReverts();
      this.#stopping = true;
      return;
    }
    const scope = this.#scopes.scopeOf(index);
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
      if (this.#scopes.widens(scope, resolution)) {
        await this.#openScope(resolution, new Map([[record.atom.name, failure]]));
      }
    }
    this.#scopes.offerRevert(index);
  }

  /** Starts reverting the atoms a resolution covers; atoms still running join once they finish. */
  async #openScope(resolution: Resolution, failures: Map<string, Failure>): Promise<void> {
    // Reverting a retry's flow (to retry it, or under revertScope 'subflow') leaves the
    // branches that do not depend on it running; only reverting everything stops the run.
    if (resolution.kind === 'all') this.#stopping = true;
    const scope = this.#scopes.open(resolution, failures);
    if (scope.live === 0) await this.#closeScope(scope);
  }

  // ---- reverting ----

  async #startRevert(index: number): Promise<void> {
    const record = this.#ctx.records[index] as AtomRecord;
    const scope = this.#scopes.scopeOf(index);
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
      this.#reportProgress,
      this.#ctx.checkpoint.fence(),
      new Map(scope.failures),
    );
    const call =
      atom.kind === 'task'
        ? () => (atom as Task).revert(inputs, context)
        : () => (atom as Retry).revert(record.history, inputs, context);
    this.#launch(index, 'revert', inputs, call, context, 0);
  }

  async #completeRevert(record: AtomRecord, completion: Completion): Promise<void> {
    if (!completion.ok) {
      const failure = Failure.from(completion.value);
      record.revertFailure = failure;
      this.#setState(record, 'REVERT_FAILURE');
      this.#scheduler.stopReverts();
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
    const scope = this.#scopes.scopeOf(completion.node);
    if (scope && this.#scopes.reverted(completion.node, scope)) await this.#closeScope(scope);
  }

  async #closeScope(scope: ActiveScope): Promise<void> {
    this.#scopes.close(scope);
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
    const { records } = this.#ctx;
    const retry = records[retryIndex] as AtomRecord;
    if (retry.state !== 'RETRYING') {
      this.#setState(retry, 'RETRYING');
      this.#ctx.statistics.retried++;
      this.#ctx.checkpoint.stage(retry);
      this.#events.atomChanged(retry, 'SUCCESS');
    }
    const members = this.#scopes.release(scope, retryIndex);
    for (const index of members) {
      const record = records[index];
      if (record && record.state !== 'PENDING') {
        const from = record.state;
        this.#setState(record, 'PENDING');
        clearAtomRecord(record);
        this.#ctx.checkpoint.stage(record);
        this.#events.atomChanged(record, from);
      }
    }
    this.#scheduler.restart(retryIndex, members);
    this.#scheduler.enqueue(retryIndex);
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
    if (this.#cancel?.revert === false)
      return { state: 'FAILURE', failures: [this.#cancel.failure] };
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
