import type { AtomKind, AtomState } from '../core/states.ts';
import { FENCED_LEASE_EXPIRY, type Lease } from './ports.ts';
import type { LeaseHolder } from './run-store-driver.ts';
import { StorageError } from './storage-error.ts';
import { legalNextStates } from './write-rules.ts';

// The one place where refusals reported by backends become errors people can act on.

export function runNotFound(flowId: string, action: string): StorageError {
  return new StorageError(
    'RUN_NOT_FOUND',
    `Cannot ${action}: no run with id "${flowId}" is stored here. Create it first with ensureFlow(book, detail), or check the id and the store URL.`,
    { flowId },
  );
}

export function fenced(lease: Lease, holder: LeaseHolder, action: string): StorageError {
  const now =
    holder.owner === undefined
      ? `the lease was released (current token ${holder.token})`
      : `it is now held by "${holder.owner}" with token ${holder.token}`;
  return new StorageError(
    'FENCED',
    `Cannot ${action}: the lease of "${lease.owner}" with token ${lease.token} on run "${lease.flowId}" is no longer current; ${now}. Nothing was written. Another engine may be continuing this run: stop working on it, or acquire the lease again and reload the run before writing.`,
    { flowId: lease.flowId },
  );
}

export function leaseHeld(flowId: string, owner: string, holder: LeaseHolder): StorageError {
  if (holder.expiresAt === FENCED_LEASE_EXPIRY) {
    const now =
      holder.owner === undefined
        ? `its last claim (token ${holder.token}) released it`
        : `"${holder.owner}" holds it under the claim with token ${holder.token}`;
    return new StorageError(
      'LEASE_HELD',
      `Engine "${owner}" cannot lease run "${flowId}": the run is carried by a job, so only that job's current claim may write it (${now}). Continue it through the jobboard (a conductor claims the job; an operator can redrive it, e.g. \`taskflow jobs redrive\`), not with a plain engine.`,
      { flowId },
    );
  }
  const until = new Date(holder.expiresAt).toISOString();
  return new StorageError(
    'LEASE_HELD',
    `Engine "${owner}" cannot lease run "${flowId}": "${holder.owner ?? '?'}" holds it (token ${holder.token}) until ${until}. Only one engine may run a flow at a time; wait for that engine to finish or release it, or for the lease to expire, then acquire again.`,
    { flowId },
  );
}

/** A fenced acquire whose claim token is older than the run's lease. */
export function staleFence(
  flowId: string,
  owner: string,
  fence: number,
  holder: LeaseHolder,
): StorageError {
  const now =
    holder.owner === undefined
      ? `the run's lease has token ${holder.token} (released)`
      : `"${holder.owner}" holds the run's lease with token ${holder.token}`;
  return new StorageError(
    'FENCED',
    `Engine "${owner}" cannot lease run "${flowId}" with fence ${fence}: ${now}, and only a bigger fence (or the same fence of the same owner) may take it over, so this job claim has been superseded. Nothing was changed. Stop working on this job; the jobboard has given it to a newer claim.`,
    { flowId },
  );
}

export function illegalTransition(
  flowId: string,
  atom: { readonly name: string; readonly kind: AtomKind; readonly state: AtomState },
  from: AtomState | undefined,
): StorageError {
  const problem =
    from === undefined
      ? `it has no stored record yet, so its first state must be PENDING, RUNNING or IGNORE, not ${atom.state}`
      : `a ${atom.kind} cannot move from ${from} to ${atom.state}; from ${from} it may move to ${describeNext(atom.kind, from)}, be written as ${from} again, or be reset to PENDING`;
  return new StorageError(
    'ILLEGAL_TRANSITION',
    `Cannot save atom "${atom.name}" of run "${flowId}": ${problem}. Nothing was written; the caller (usually the engine) has a bug.`,
    { flowId },
  );
}

export function invalidArgument(message: string, flowId?: string): StorageError {
  return new StorageError('INVALID_ARGUMENT', message, flowId === undefined ? {} : { flowId });
}

function describeNext(kind: AtomKind, from: AtomState): string {
  const next = legalNextStates(kind, from);
  return next.length === 0 ? 'no other state' : next.join(' or ');
}
