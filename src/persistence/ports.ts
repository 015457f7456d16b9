import type { Page } from '../core/page.ts';
import type { FlowState } from '../core/states.ts';
import type { AtomDetail, FlowDetail, LogBook } from './model.ts';

/** `expiresAt` of a lease fenced by a job claim: it ends with the claim, not by time. */
export const FENCED_LEASE_EXPIRY: number = Number.MAX_SAFE_INTEGER;

/** The right to write one flow detail, until `expiresAt`; `token` fences out older holders. */
export interface Lease {
  readonly flowId: string;
  readonly owner: string;
  readonly token: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * What {@link RunJournal.openRun} needs: the run to create when it is new, and who takes its
 * lease (with `fence`, the token of the job claim that carries the run, as for
 * {@link RunJournal.acquireLease}).
 */
export interface OpenRunRequest {
  readonly book: LogBook;
  readonly flow: FlowDetail;
  readonly owner: string;
  readonly ttlMs: number;
  readonly fence?: number;
}

/** A run opened for writing: its lease, and the run as stored when the lease was granted. */
export interface OpenedRun {
  readonly lease: Lease;
  readonly flow: FlowDetail;
  readonly atoms: AtomDetail[];
}

/** What else a {@link RunJournal.saveAtoms} call writes, in the same transaction. */
export interface RunWriteOptions {
  /** The flow detail, written after the atoms (a state change that ends or starts the run). */
  readonly flow?: FlowDetail;
  /** Gives the lease up after the writes, as {@link RunJournal.releaseLease} does. */
  readonly release?: boolean;
}

/**
 * What an engine needs to checkpoint a run and to continue it later. Every write is awaited
 * before the engine moves on, so what the backend acknowledged is what a new process resumes.
 * Writes carry the writer's lease; a write whose lease token is not the flow's current one is
 * refused with a `FENCED` error and changes nothing.
 */
export interface RunJournal {
  /** Creates the logbook (if new) and the flow detail, or returns the stored flow detail with that id unchanged. */
  ensureFlow(book: LogBook, detail: FlowDetail): Promise<FlowDetail>;
  /** The flow detail and its atom details, or undefined when no run has that id. */
  loadRun(flowId: string): Promise<{ flow: FlowDetail; atoms: AtomDetail[] } | undefined>;
  /**
   * Creates the run when it is new (as {@link RunJournal.ensureFlow}), takes its lease (as
   * {@link RunJournal.acquireLease}, with the same refusals) and reads it under that lease (as
   * {@link RunJournal.loadRun}), in one step: how an engine opens a run, in one round trip.
   */
  openRun(request: OpenRunRequest): Promise<OpenedRun>;
  saveFlow(detail: FlowDetail, lease: Lease): Promise<void>;
  /**
   * Writes atom details in order, all or none (one transaction): the engine batches the result
   * of one atom with the intention of the next, so a step costs one commit. With `options`,
   * the flow detail is written after them and the lease released after that, in the same
   * transaction, so a run's last step, its end and its release cost one commit too.
   */
  saveAtoms(
    flowId: string,
    details: readonly AtomDetail[],
    lease: Lease,
    options?: RunWriteOptions,
  ): Promise<void>;
  /**
   * Takes the flow's lease for `owner`, with a token greater than any before. Refused with
   * `LEASE_HELD` while another owner's lease has not expired.
   *
   * With `fence` (the token of the job claim that carries this run), the job's claim is the
   * run's one lease: the lease is granted when `fence` is greater than the run's token (the
   * board has already decided that this claim supersedes every earlier one, expired or not),
   * or equal to it for the same owner; otherwise it is refused with `FENCED`. Such a lease
   * takes the claim's token, never expires by time (`expiresAt` is
   * {@link FENCED_LEASE_EXPIRY}; the board's claim expires instead, so `ttlMs` is unused and
   * the lease needs no renewal), and a plain acquire is refused with `LEASE_HELD` from then on,
   * even after it is released: the run belongs to its job.
   */
  acquireLease(
    flowId: string,
    owner: string,
    ttlMs: number,
    options?: { readonly fence?: number },
  ): Promise<Lease>;
  /** Extends a held lease; refused with `FENCED` when it was taken over. */
  renewLease(lease: Lease, ttlMs: number): Promise<Lease>;
  /** Gives the lease up so another engine may continue at once; a no-op when already lost. */
  releaseLease(lease: Lease): Promise<void>;
}

/**
 * Filters of {@link RunReader.listFlows}; runs come oldest first.
 *
 * @example
 * await runs.listFlows({ unfinished: true, limit: 50 });
 */
export interface FlowQuery {
  readonly logbookId?: string;
  readonly states?: readonly FlowState[];
  /** Only runs that are not SUCCESS or REVERTED: what to look at after a crash. */
  readonly unfinished?: boolean;
  readonly limit?: number;
  readonly after?: string;
}

/** Who may write a run now, for an operator: why a resume or a delete is refused, until when. */
export interface RunLeaseInfo {
  /** Null when nobody holds the lease (released, expired and not taken again, or never taken). */
  readonly owner: string | null;
  readonly token: number;
  /** Epoch milliseconds; {@link FENCED_LEASE_EXPIRY} when a job carries the run; 0 when released. */
  readonly expiresAt: number;
  /** True when the run belongs to a job: only that job's claim may write it. */
  readonly carriedByJob: boolean;
}

/** What the CLI, the service and the dashboard need to list and inspect runs. */
export interface RunReader {
  /** The run's lease as stored, or undefined when no run has that id. */
  readLease(flowId: string): Promise<RunLeaseInfo | undefined>;
  listLogbooks(query: { readonly limit?: number; readonly after?: string }): Promise<Page<LogBook>>;
  listFlows(query: FlowQuery): Promise<Page<FlowDetail>>;
  loadRun(flowId: string): Promise<{ flow: FlowDetail; atoms: AtomDetail[] } | undefined>;
}

/** Which runs {@link RunPruner.pruneRuns} deletes. Give `olderThanMs` or `before`. */
export interface RunPruneQuery {
  /** Runs last updated more than this many milliseconds ago. */
  readonly olderThanMs?: number;
  /** Runs last updated before this time (epoch milliseconds). */
  readonly before?: number;
  /** The flow states to delete; default the finished ones, SUCCESS and REVERTED. */
  readonly states?: readonly FlowState[];
  /** At most this many runs per call (1..1000, default 100); call again while `more`. */
  readonly limit?: number;
}

/**
 * Retention: what an operator needs to delete old runs. Fenced like every write: a run whose
 * lease is held and unexpired is never deleted, nor a run carried by a job (its lease expiry is
 * {@link FENCED_LEASE_EXPIRY}) unless its flow is finished (SUCCESS or REVERTED) and no claim
 * holds it. The run store cannot see the jobboard, so a job-carried run that is not finished is
 * kept until its job finishes it or is trashed along with it by hand.
 */
export interface RunPruner {
  /**
   * Deletes the run and its atom details (its logbook stays). `RUN_NOT_FOUND` when there is
   * none; `LEASE_HELD` while it is leased or carried by an unfinished job.
   */
  deleteRun(flowId: string): Promise<void>;
  /**
   * Deletes runs in `states` last updated before the cutoff, oldest first, at most `limit` of
   * them, skipping leased ones. `more` is true when the batch was full.
   */
  pruneRuns(
    query: RunPruneQuery,
  ): Promise<{ readonly deleted: readonly string[]; readonly more: boolean }>;
}

/**
 * A run store: what the openers (`openRunStore`, `createSqliteRunStore`, ...) return. Engines
 * write runs through its {@link RunJournal} part, operators read and prune through
 * {@link RunReader} and {@link RunPruner}; it must be closed when done.
 *
 * @example
 * const runs = await openRunStore('sqlite://.taskflow/runs.db');
 * try { console.log(await runs.listFlows({ limit: 10 })); } finally { await runs.close(); }
 */
export interface RunStore extends RunJournal, RunReader, RunPruner {
  /** Releases connections and file handles. Idempotent; later calls fail with `STORE_CLOSED`. */
  close(): Promise<void>;
}

/** @deprecated Use {@link RunStore}; this name is kept for one more release. */
export type RunStorage = RunStore;
