import type { RunChange } from '../api/types.ts';

/** One execution or revert of an atom, read from the run's events. */
export interface Attempt {
  readonly atom: string;
  readonly kind: 'execute' | 'revert';
  /** 1 for the atom's first execution (or revert), 2 for the next, ... */
  readonly number: number;
  readonly start: number;
  /** Undefined while it is still going. */
  readonly end: number | undefined;
  /** The state it ended in (SUCCESS, FAILURE, REVERTED, ...), or the state it is in. */
  readonly outcome: string;
}

const STARTS: Readonly<Record<string, Attempt['kind']>> = {
  RUNNING: 'execute',
  REVERTING: 'revert',
};

/**
 * Every execute and revert attempt of every atom, oldest first: an attempt starts when the atom
 * becomes RUNNING (or REVERTING) and ends with its next state. Progress events of a running
 * atom are part of the same attempt.
 */
export function attemptsOf(events: readonly RunChange[]): Attempt[] {
  const open = new Map<string, { kind: Attempt['kind']; number: number; start: number }>();
  const counts = new Map<string, number>();
  const attempts: Attempt[] = [];
  for (const event of events) {
    if (event.atom === null) continue;
    const current = open.get(event.atom);
    const starts = STARTS[event.state];
    if (current !== undefined && starts === current.kind) continue;
    if (current !== undefined) {
      attempts.push({ atom: event.atom, ...current, end: event.at, outcome: event.state });
      open.delete(event.atom);
    }
    if (starts !== undefined) {
      const key = `${event.atom}\u0000${starts}`;
      const number = (counts.get(key) ?? 0) + 1;
      counts.set(key, number);
      open.set(event.atom, { kind: starts, number, start: event.at });
    }
  }
  for (const [atom, current] of open) {
    attempts.push({
      atom,
      ...current,
      end: undefined,
      outcome: current.kind === 'execute' ? 'RUNNING' : 'REVERTING',
    });
  }
  return attempts.sort((a, b) => a.start - b.start);
}
