/** What the graph shows of one atom: its state and progress, kept current by the events. */
export interface AtomLook {
  readonly state: string;
  readonly progress: number;
}

const URGENCY = [
  'REVERT_FAILURE',
  'FAILURE',
  'RUNNING',
  'REVERTING',
  'RETRYING',
  'REVERTED',
  'PENDING',
  'SUCCESS',
  'IGNORE',
];

/**
 * One state standing for a collapsed flow's atoms: the most urgent among them (a failure before
 * work in progress, before reverted, before waiting, before done).
 */
export function summaryState(states: readonly string[]): string {
  let best = URGENCY.length;
  for (const state of states) {
    const rank = URGENCY.indexOf(state);
    if (rank !== -1 && rank < best) best = rank;
  }
  if (best === URGENCY.indexOf('PENDING') && states.some((s) => s === 'SUCCESS')) return 'RUNNING';
  return URGENCY[best] ?? 'PENDING';
}
