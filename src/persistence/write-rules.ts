import {
  ATOM_STATES,
  type AtomKind,
  type AtomState,
  isLegalAtomTransition,
} from '../core/states.ts';
import type { AtomWriteRule } from './run-store-driver.ts';

/**
 * The stored states an atom write to `to` may replace, as docs/semantics.md's transitions allow,
 * plus the two writes the engine makes outside them: the same state again (progress, a result
 * or a revert result being recorded) and PENDING from any state (reset, and retries resetting
 * their subflow). A missing record counts as PENDING, so the first write must be a state
 * reachable from PENDING.
 */
export function atomWriteRule(kind: AtomKind, to: AtomState): AtomWriteRule {
  const key = `${kind}:${to}`;
  let rule = RULES.get(key);
  if (rule === undefined) {
    rule = computeRule(kind, to);
    RULES.set(key, rule);
  }
  return rule;
}

/** The states an atom of `kind` may move to from `from` (besides itself and PENDING). */
export function legalNextStates(kind: AtomKind, from: AtomState): AtomState[] {
  return ATOM_STATES.filter(
    (to) => to !== from && to !== 'PENDING' && isLegalAtomTransition(kind, from, to),
  );
}

const RULES = new Map<string, AtomWriteRule>();

function computeRule(kind: AtomKind, to: AtomState): AtomWriteRule {
  if (to === 'PENDING') return { from: ATOM_STATES, create: true };
  const from = ATOM_STATES.filter(
    (state) => state === to || isLegalAtomTransition(kind, state, to),
  );
  return { from, create: isLegalAtomTransition(kind, 'PENDING', to) };
}
