import type { AtomRecord } from './atom-record.ts';
import type { CompiledGraph } from './compile.ts';
import { Heap } from './heap.ts';
import type { RevertOrder } from './run-context.ts';

/** One atom of a serial step, and whether it is to be executed or reverted. */
export interface StepEntry {
  readonly node: number;
  readonly phase: 'execute' | 'revert';
}

/** What the scheduler is built from. */
export interface SchedulerOptions {
  readonly graph: CompiledGraph;
  /** By node index; undefined for virtual nodes. */
  readonly records: readonly (AtomRecord | undefined)[];
  readonly revertOrder: RevertOrder;
  /** Whether a revert under way covers the node: such a node is not executed. */
  readonly covered: (index: number) => boolean;
}

/** How a queue slot of a node is used: not queued, waiting to execute, waiting to revert. */
const NOT_QUEUED = 0;
const QUEUED_TO_EXECUTE = 1;
const QUEUED_TO_REVERT = 2;

/**
 * Decides which atom runs next (see docs/semantics.md, "Scheduling"): counts each node's
 * predecessors that are not done yet, keeps the atoms ready to execute and those ready to
 * revert in priority order, and hands them out one at a time, or as TaskFlow's serial steps.
 * It changes no atom's state; the runner does that.
 */
export class Scheduler {
  readonly #graph: CompiledGraph;
  readonly #records: readonly (AtomRecord | undefined)[];
  readonly #revertOrder: RevertOrder;
  readonly #covered: (index: number) => boolean;
  /** Per node: how many predecessors are not done. */
  readonly #waiting: Int32Array;
  /** Per node: 1 once SUCCESS or IGNORE (or a virtual node whose predecessors are done). */
  readonly #done: Uint8Array;
  readonly #queued: Uint8Array;
  readonly #ready: Heap;
  readonly #reverts: Heap;
  /** Once a revert failed: the reverts that were ready then, which still run; no other does. */
  #revertsLeft: ReadonlySet<number> | undefined;
  #revertsHalted = false;
  /**
   * With concurrency 1, the atoms of the current step (TaskFlow's serial engine): every atom
   * ready when the step began, in the order they run; the next step starts when it is empty.
   */
  #step: StepEntry[] = [];
  #stepHead = 0;

  constructor(options: SchedulerOptions) {
    const { graph, records } = options;
    this.#graph = graph;
    this.#records = records;
    this.#revertOrder = options.revertOrder;
    this.#covered = options.covered;
    const n = graph.nodes.length;
    this.#waiting = new Int32Array(n);
    this.#done = new Uint8Array(n);
    this.#queued = new Uint8Array(n);
    const byPriority = (a: number, b: number): boolean => {
      const pa = records[a]?.atom.priority ?? 0;
      const pb = records[b]?.atom.priority ?? 0;
      return pa !== pb ? pa > pb : a < b;
    };
    this.#ready = new Heap(byPriority);
    this.#reverts = new Heap(
      options.revertOrder === 'priority'
        ? byPriority
        : (a, b) => (records[a]?.completedSeq ?? 0) > (records[b]?.completedSeq ?? 0),
    );
  }

  /** Counts what each node waits for from the records (a fresh, continued or recovered run). */
  prepare(): void {
    for (const index of this.#graph.topoOrder) {
      const node = this.#graph.nodes[index];
      if (!node) continue;
      let waiting = 0;
      for (const p of node.predecessors) if (this.#done[p] === 0) waiting++;
      this.#waiting[index] = waiting;
      const record = this.#records[index];
      const done = record ? record.state === 'SUCCESS' || record.state === 'IGNORE' : waiting === 0;
      this.#done[index] = done ? 1 : 0;
    }
  }

  /** Whether every predecessor of the node is done. */
  isReady(index: number): boolean {
    return this.#waiting[index] === 0;
  }

  /**
   * A node is done (SUCCESS or IGNORE, or a virtual node whose predecessors are): releases its
   * successors. `onReady` is called for each node whose last predecessor this made done, and
   * returns true when that node is done at once (ignored, or virtual).
   */
  markDone(start: number, onReady: (index: number) => boolean): void {
    const stack = [start];
    for (let index = stack.pop(); index !== undefined; index = stack.pop()) {
      this.#done[index] = 1;
      for (const next of this.#graph.nodes[index]?.successors ?? []) {
        const waiting = (this.#waiting[next] ?? 0) - 1;
        this.#waiting[next] = waiting;
        if (waiting === 0 && onReady(next)) stack.push(next);
      }
    }
  }

  /**
   * A retry runs its flow again: the retry and the flow's atoms are not done any more, and each
   * atom waits again for its predecessors. `members` are in topological order.
   */
  restart(retry: number, members: readonly number[]): void {
    this.#done[retry] = 0;
    for (const index of members) this.#done[index] = 0;
    for (const index of members) {
      let waiting = 0;
      for (const p of this.#graph.nodes[index]?.predecessors ?? [])
        if (this.#done[p] === 0) waiting++;
      this.#waiting[index] = waiting;
    }
  }

  /** Queues an atom to execute, once. */
  enqueue(index: number): void {
    if (this.#queued[index] !== NOT_QUEUED) return;
    this.#queued[index] = QUEUED_TO_EXECUTE;
    this.#ready.push(index);
  }

  /** Queues an atom to revert, once. */
  queueRevert(index: number): void {
    if (this.#queued[index] === QUEUED_TO_REVERT) return;
    this.#queued[index] = QUEUED_TO_REVERT;
    this.#reverts.push(index);
  }

  /**
   * After a revert failed no new revert starts, but those that are ready now still run: every
   * independent atom that can be compensated is. Later calls change nothing.
   */
  stopReverts(): void {
    this.#revertsLeft ??= new Set(this.#reverts.values());
  }

  /** No revert starts any more (halt on failure). */
  haltReverts(): void {
    this.#revertsHalted = true;
  }

  /** The next atom to revert, or undefined. */
  nextRevert(): number | undefined {
    if (this.#revertsHalted) return undefined;
    for (let next = this.#reverts.pop(); next !== undefined; next = this.#reverts.pop()) {
      this.#queued[next] = NOT_QUEUED;
      if (this.#revertsLeft === undefined || this.#revertsLeft.has(next)) return next;
    }
    return undefined;
  }

  /** The next atom to execute, by priority, or undefined. */
  nextExecution(): number | undefined {
    for (let next = this.#ready.pop(); next !== undefined; next = this.#ready.pop()) {
      this.#queued[next] = NOT_QUEUED;
      if (this.canExecute(next)) return next;
    }
    return undefined;
  }

  /**
   * Whether an atom may start executing: a queue entry can be stale when a retry reset its flow
   * after it was queued, so readiness is checked again when it is taken.
   */
  canExecute(index: number): boolean {
    const record = this.#records[index];
    if (!record || this.#covered(index) || this.#waiting[index] !== 0) return false;
    const { state } = record;
    return state === 'PENDING' || state === 'RUNNING' || state === 'RETRYING';
  }

  /** The next entry of the current serial step, or undefined when the step is over. */
  nextInStep(): StepEntry | undefined {
    const entry = this.#step[this.#stepHead];
    if (entry) this.#stepHead++;
    return entry;
  }

  /**
   * Begins the next serial step and returns its first entry, or undefined when nothing is
   * ready. With `revertOrder: 'priority'` reverts are part of the steps, ordered with the
   * executions by priority, as in TaskFlow; by default a revert is a step of its own, the
   * newest ready one, so that serial reverts go in exact reverse completion order. While
   * `stopping`, no execution is taken.
   */
  beginStep(stopping: boolean): StepEntry | undefined {
    const reverts: StepEntry[] = [];
    const priority = this.#revertOrder === 'priority';
    for (let next = this.nextRevert(); next !== undefined; next = this.nextRevert()) {
      reverts.push({ node: next, phase: 'revert' });
      if (!priority) return this.#startStep(reverts);
    }
    const executes: StepEntry[] = [];
    if (!stopping) {
      for (let next = this.#ready.pop(); next !== undefined; next = this.#ready.pop()) {
        this.#queued[next] = NOT_QUEUED;
        if (this.canExecute(next)) executes.push({ node: next, phase: 'execute' });
      }
    }
    return this.#startStep(
      priority ? mergeByPriority(reverts, executes, this.#records) : [...reverts, ...executes],
    );
  }

  #startStep(step: StepEntry[]): StepEntry | undefined {
    this.#step = step;
    this.#stepHead = 0;
    return this.nextInStep();
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
