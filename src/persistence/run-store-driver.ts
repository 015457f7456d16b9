import type { AtomState, FlowState } from '../core/states.ts';
import type { AtomDetail, FlowDetail, LogBook } from './model.ts';
import type { Lease, RunReader, RunWriteOptions } from './ports.ts';

/**
 * Which stored states an atom write may replace. Computed once, by the guard, from the legal
 * transitions; a backend only has to apply it atomically together with the fencing check.
 */
export interface AtomWriteRule {
  /** The write replaces a stored record only when the stored state is one of these. */
  readonly from: readonly AtomState[];
  /** The write may create the record when the atom has none yet. */
  readonly create: boolean;
}

/** One atom write of a batch, with the states it may replace. */
export interface AtomWrite {
  readonly detail: AtomDetail;
  readonly rule: AtomWriteRule;
}

/** Who holds a run's lease now, as a backend reports it after refusing a write. */
export interface LeaseHolder {
  /** Undefined when nobody holds it (released, or never taken). */
  readonly owner: string | undefined;
  readonly token: number;
  readonly expiresAt: number;
}

/** What became of a conditional write. Refusals say why, so one place can explain them. */
export type WriteOutcome =
  | { readonly kind: 'written' }
  | { readonly kind: 'no-run' }
  | { readonly kind: 'fenced'; readonly holder: LeaseHolder }
  | { readonly kind: 'illegal'; readonly from: AtomState | undefined; readonly index: number };

/** What became of a lease request. */
export type LeaseOutcome =
  | { readonly kind: 'granted'; readonly lease: Lease }
  | { readonly kind: 'no-run' }
  | { readonly kind: 'held'; readonly holder: LeaseHolder }
  | { readonly kind: 'fenced'; readonly holder: LeaseHolder };

/** What {@link RunStoreDriver.openRun} is asked: the run to create if new, who leases it, when. */
export interface OpenRequest {
  readonly book: LogBook;
  readonly detail: FlowDetail;
  readonly owner: string;
  readonly ttlMs: number;
  readonly now: number;
  readonly fence?: number;
}

/** What became of an open request: the lease and the run read under it, or who holds it. */
export type OpenOutcome =
  | {
      readonly kind: 'granted';
      readonly lease: Lease;
      readonly flow: FlowDetail;
      readonly atoms: AtomDetail[];
    }
  | { readonly kind: 'held'; readonly holder: LeaseHolder }
  | { readonly kind: 'fenced'; readonly holder: LeaseHolder };

/** What became of a delete request. */
export type DeleteOutcome =
  | { readonly kind: 'deleted' }
  | { readonly kind: 'no-run' }
  | { readonly kind: 'held'; readonly holder: LeaseHolder }
  /** With `states`: the run was not deleted (leased, or its state changed since listed). */
  | { readonly kind: 'kept' };

/**
 * What a storage technology implements. Each method is atomic: the fencing check and the
 * write happen in one statement or transaction, so two processes racing cannot both win.
 * Backends never throw for refusals; they report them, and {@link guardRunStore} turns them
 * into errors, checks JSON-safety and computes transition rules, for every backend alike.
 * Driver failures are thrown as `StorageError`s (`STORAGE_UNAVAILABLE`, `STORAGE_CORRUPT`).
 *
 * A write is accepted only while the run's current lease has the writer's token and owner;
 * `releaseLease` clears the owner, so a released lease can no longer write either.
 *
 * Time: lease requests carry `now`, the guard's clock when the call was made. A backend with
 * one local clock (memory, SQLite) uses it for expiry; a backend behind a server (PostgreSQL)
 * ignores it and reads the server's clock inside the statement, so a request that waited in a
 * queue or a pool is still timed from when the server handled it.
 *
 * A lease fenced by a job claim (`fence`) has `expiresAt` {@link FENCED_LEASE_EXPIRY}, and the
 * run keeps that marker after release: it is how a backend knows, in the same atomic check,
 * that the run is carried by a job and a plain acquire must be refused.
 */
export interface RunStoreDriver extends RunReader {
  ensureFlow(book: LogBook, detail: FlowDetail): Promise<FlowDetail>;
  /**
   * In one atomic step: `ensureFlow(book, detail)`, then `acquireLease` as below (the run
   * exists by then, so there is no `no-run`), then, when granted, the run as `loadRun` reads it.
   */
  openRun(request: OpenRequest): Promise<OpenOutcome>;
  writeFlow(detail: FlowDetail, lease: Lease): Promise<WriteOutcome>;
  /**
   * Applies the writes in order in one transaction, then `options.flow` as `writeFlow` would and
   * then `options.release` as `releaseLease` would, in the same transaction; on any refusal
   * none of it lands.
   */
  writeAtoms(
    flowId: string,
    writes: readonly AtomWrite[],
    lease: Lease,
    options?: RunWriteOptions,
  ): Promise<WriteOutcome>;
  /**
   * Without `fence`: grants when the run is not carried by a job (its `expiresAt` is not
   * {@link FENCED_LEASE_EXPIRY}, whoever holds it) and nobody holds the lease or it expired at
   * or before now; the token goes up by one and the lease expires `ttlMs` after now. Otherwise
   * reports `held`.
   *
   * With `fence`: grants when `fence` is greater than the run's token, or equal to it while
   * `owner` holds the lease, whoever holds it and whenever it expires; the lease takes `fence`
   * as its token and {@link FENCED_LEASE_EXPIRY} as its expiry (`ttlMs` and `now` are unused).
   * Otherwise reports `fenced`.
   */
  acquireLease(request: {
    flowId: string;
    owner: string;
    ttlMs: number;
    now: number;
    fence?: number;
  }): Promise<LeaseOutcome>;
  /**
   * Extends the lease to `ttlMs` after now while it is still the current one. A fenced lease is
   * never changed (it does not expire by time; the guard does not pass it here); asking
   * reports `fenced`, so the run stays marked as carried by its job.
   */
  renewLease(request: { lease: Lease; ttlMs: number; now: number }): Promise<LeaseOutcome>;
  /**
   * Clears the owner when `lease` is still the current one; otherwise does nothing. A plain
   * lease's expiry is reset to 0, a fenced lease keeps {@link FENCED_LEASE_EXPIRY}.
   */
  releaseLease(lease: Lease): Promise<void>;
  /**
   * Deletes the run and its atoms in one atomic step, unless a lease holds it (an owner with
   * `expiresAt > now`) or a job carries it ({@link FENCED_LEASE_EXPIRY}) and its state is not
   * SUCCESS or REVERTED; then reports `held`. A server backend reads `now` from its clock.
   * With `states` (a prune), the run's state must also be one of them, checked in the same
   * atomic step, and any refusal reports `kept`.
   */
  deleteRun(request: {
    flowId: string;
    now: number;
    states?: readonly FlowState[];
  }): Promise<DeleteOutcome>;
  close(): Promise<void>;
}

/** @deprecated Use {@link RunStoreDriver}; this name is kept for one more release. */
export type RunStoreBackend = RunStoreDriver;
