/**
 * Compares our outcome of a case with what Python TaskFlow did, after normalising what TaskFlow
 * leaves to chance, and matching each remaining difference to a documented deliberate
 * difference (docs/semantics.md, "Deliberate differences") or
 * reporting it as a real disagreement.
 *
 * Normalisations (applied to both sides, not differences):
 * - the messages of the failures a run raised are compared as a sorted list;
 * - in the history handed to a retry's decision, the failures of the attempt being decided
 *   are compared by count only: TaskFlow processes the failures of one step in set (hash)
 *   order, so which of them it has recorded at each consultation is not reproducible.
 * - TaskFlow itself is not deterministic from process to process (it iterates sets of atoms);
 *   each case holds every distinct outcome it produced under several hash seeds, and ours
 *   agrees when it matches one of them.
 *
 * Allowed differences (the only ones):
 * - `taskflow-ghost-revert`: TaskFlow reverts an atom that did not run (since it was last
 *   reverted), or reverts an atom while an atom after it is still unreverted; from then on its
 *   run is not a reference (it may also wedge). Only the calls before that revert are compared.
 * - `taskflow-stale-failure`: TaskFlow re-raises a failure recorded in an earlier attempt of an
 *   enclosing retry; such failures are dropped from what TaskFlow raised before comparing.
 *
 * Our outcome must also satisfy the invariants TaskFlow breaks (no ghost reverts), and must not
 * carry an error (timeout, onError report).
 */
import {
  atomsOf,
  type CaseSpec,
  type Decision,
  type FlowSpec,
  type Outcome,
  type Raised,
  type RetrySpec,
  type TaskSpec,
} from './spec.ts';

export interface Allowed {
  readonly rule: 'taskflow-ghost-revert' | 'taskflow-stale-failure';
  readonly reason: string;
}

export interface FieldDiff {
  readonly field: string;
  readonly taskflow: unknown;
  readonly ours: unknown;
}

export interface Verdict {
  readonly agree: boolean;
  readonly allowed: readonly Allowed[];
  readonly diffs: readonly FieldDiff[];
  /** Which of TaskFlow's outcomes was compared (the matching one, or the closest). */
  readonly variant: number;
}

// ---- the structure of a spec ----

/** For each atom, every atom that must run after it (transitively). */
export function successorsOf(flow: FlowSpec): Map<string, Set<string>> {
  const after = new Map<string, Set<string>>();
  for (const atom of atomsOf(flow)) after.set(atom.name, new Set());
  const edge = (from: readonly string[], to: readonly string[]): void => {
    for (const a of from) for (const b of to) after.get(a)?.add(b);
  };
  const visit = (f: FlowSpec): string[] => {
    const members = f.children.map((child) =>
      child.kind === 'flow' ? visit(child) : [child.name],
    );
    if (f.type === 'linear') {
      for (let i = 1; i < members.length; i++)
        edge(members.slice(0, i).flat(), members[i] as string[]);
    } else if (f.type === 'graph') {
      const provides = f.children.map(providedWithin);
      const requires = f.children.map(requiredFrom);
      f.children.forEach((_, j) => {
        f.children.forEach((__, i) => {
          if (i !== j && [...(requires[j] as Set<string>)].some((s) => provides[i]?.has(s)))
            edge(members[i] as string[], members[j] as string[]);
        });
      });
      const index = new Map(f.children.map((c, i) => [c.name, i]));
      for (const [from, to] of f.links ?? [])
        edge(
          members[index.get(from) as number] as string[],
          members[index.get(to) as number] as string[],
        );
    }
    const all = members.flat();
    if (f.retry) edge([f.retry.name], all);
    return f.retry ? [f.retry.name, ...all] : all;
  };
  visit(flow);
  // Transitive closure; cases are small.
  let changed = true;
  while (changed) {
    changed = false;
    for (const set of after.values()) {
      for (const b of [...set]) {
        for (const c of after.get(b) ?? []) {
          if (!set.has(c)) {
            set.add(c);
            changed = true;
          }
        }
      }
    }
  }
  return after;
}

function providedWithin(child: FlowSpec | TaskSpec): Set<string> {
  if (child.kind === 'task') return new Set(child.provides ? [child.provides] : []);
  const out = new Set<string>(child.retry?.provides ? [child.retry.provides] : []);
  for (const c of child.children) for (const s of providedWithin(c)) out.add(s);
  return out;
}

function requiredFrom(child: FlowSpec | TaskSpec): Set<string> {
  if (child.kind === 'task') return new Set(child.requires);
  const inside = providedWithin(child);
  const out = new Set<string>();
  for (const c of child.children) for (const s of requiredFrom(c)) if (!inside.has(s)) out.add(s);
  return out;
}

/** For each atom, the retries of the flows enclosing it (nearest first). */
export function enclosingRetries(flow: FlowSpec): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const visit = (f: FlowSpec, outer: readonly string[]): void => {
    const retries = f.retry ? [f.retry.name, ...outer] : [...outer];
    if (f.retry) out.set(f.retry.name, [...outer]);
    for (const child of f.children) {
      if (child.kind === 'flow') visit(child, retries);
      else out.set(child.name, retries);
    }
  };
  visit(flow, []);
  return out;
}

// ---- invariants and TaskFlow's defects ----

/**
 * The first call that reverts an atom that did not run since it was last reverted, or that
 * reverts an atom while one that runs after it is still unreverted; undefined when none does.
 */
export function firstGhostRevert(
  calls: readonly string[],
  successors: ReadonlyMap<string, ReadonlySet<string>>,
): { index: number; why: string } | undefined {
  const live = new Set<string>();
  for (let index = 0; index < calls.length; index++) {
    const [op, name] = (calls[index] as string).split(' ') as [string, string];
    if (op === 'execute') {
      live.add(name);
      continue;
    }
    if (!live.has(name)) return { index, why: `reverts ${name}, which did not run` };
    const after = [...(successors.get(name) ?? [])].filter((s) => live.has(s));
    if (after.length > 0)
      return {
        index,
        why: `reverts ${name} before ${after.sort().join(', ')}, which run after it`,
      };
    live.delete(name);
  }
  return undefined;
}

const FAILURE = /^(\S+) failed on execute #(\d+)$/;

/**
 * The failures TaskFlow raised that belong to an earlier attempt of a retry enclosing the atom:
 * after the failing execute, that retry executed again.
 */
export function staleFailures(
  raised: Raised,
  calls: readonly string[],
  retries: ReadonlyMap<string, readonly string[]>,
): string[] {
  return raised.messages.filter((message) => {
    const match = FAILURE.exec(message);
    if (!match) return false;
    const [, atom, nth] = match as unknown as [string, string, string];
    let seen = 0;
    const at = calls.findIndex((c) => c === `execute ${atom}` && ++seen === Number(nth));
    if (at < 0) return false;
    const outer = new Set(retries.get(atom) ?? []);
    return calls.slice(at + 1).some((c) => c.startsWith('execute ') && outer.has(c.slice(8)));
  });
}

// ---- normalisation ----

/** A decision with the failures of the attempt being decided reduced to their count. */
function normaliseDecision(d: Decision): unknown {
  const earlier = d.history.slice(0, -1);
  const last = d.history.at(-1);
  return {
    retry: d.retry,
    decision: d.decision,
    earlierAttempts: earlier,
    deciding: last === undefined ? null : { provided: last[0], failures: last[1].length },
  };
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

// ---- comparison ----

function compareOne(spec: CaseSpec, ours: Outcome, tf: Outcome): Omit<Verdict, 'variant'> {
  const diffs: FieldDiff[] = [];
  const allowed: Allowed[] = [];
  const successors = successorsOf(spec.flow);
  if (ours.error !== undefined)
    diffs.push({ field: 'error', taskflow: tf.error, ours: ours.error });
  const ourGhost = firstGhostRevert(ours.calls, successors);
  if (ourGhost)
    diffs.push({
      field: 'invariant',
      taskflow: null,
      ours: `call ${ourGhost.index} ${ourGhost.why}`,
    });

  const ghost = firstGhostRevert(tf.calls, successors);
  if (ghost) {
    allowed.push({
      rule: 'taskflow-ghost-revert',
      reason: `TaskFlow's call ${ghost.index} (${tf.calls[ghost.index]}) ${ghost.why}; only the calls before it are compared`,
    });
    const prefix = tf.calls.slice(0, ghost.index);
    if (!same(ours.calls.slice(0, ghost.index), prefix))
      diffs.push({ field: 'calls', taskflow: tf.calls, ours: ours.calls });
    return { agree: diffs.length === 0, allowed, diffs };
  }
  if (tf.error !== undefined)
    diffs.push({ field: 'error', taskflow: tf.error, ours: ours.error ?? null });

  let tfRaised = tf.raised;
  if (tfRaised) {
    const stale = staleFailures(tfRaised, tf.calls, enclosingRetries(spec.flow));
    if (stale.length > 0) {
      allowed.push({
        rule: 'taskflow-stale-failure',
        reason: `TaskFlow re-raised failures of an earlier retry attempt: ${stale.join('; ')}`,
      });
      const messages = tfRaised.messages.filter((m) => !stale.includes(m));
      tfRaised = { wrapped: messages.length > 1, messages };
    }
  }
  const ourRaised = ours.raised && { ...ours.raised, messages: [...ours.raised.messages].sort() };

  const fields: [string, unknown, unknown][] = [
    ['calls', tf.calls, ours.calls],
    ['flowState', tf.flowState, ours.flowState],
    ['atoms', tf.atoms, ours.atoms],
    ['results', tf.results, ours.results],
    ['histories', tf.histories, ours.histories],
    ['decisions', tf.decisions.map(normaliseDecision), ours.decisions.map(normaliseDecision)],
    ['raised', tfRaised, ourRaised],
  ];
  for (const [field, a, b] of fields) if (!same(a, b)) diffs.push({ field, taskflow: a, ours: b });
  return { agree: diffs.length === 0, allowed, diffs };
}

/** Agreeing first; then outcomes without a ghost revert (more of them is compared); then closest. */
function rank(verdict: Verdict): number {
  const ghost = verdict.allowed.some((a) => a.rule === 'taskflow-ghost-revert');
  return (verdict.agree ? 0 : 10_000) + (ghost ? 1000 : 0) + verdict.diffs.length;
}

/** Compares ours with each of TaskFlow's outcomes; agrees when one of them matches. */
export function compareOutcome(
  spec: CaseSpec,
  ours: Outcome,
  taskflow: readonly Outcome[],
): Verdict {
  let best: Verdict | undefined;
  taskflow.forEach((tf, variant) => {
    const verdict = { ...compareOne(spec, ours, tf), variant };
    if (!best || rank(verdict) < rank(best)) best = verdict;
  });
  if (!best) throw new Error(`Case ${spec.id} has no TaskFlow outcome to compare with.`);
  return best;
}

// ---- readable reports ----

function describeRetry(r: RetrySpec): string {
  const what =
    r.type === 'times'
      ? `Times(${r.attempts})`
      : r.type === 'foreach'
        ? `ForEach(${JSON.stringify(r.values)})`
        : r.type === 'pforeach'
          ? `ParameterizedForEach(${r.valuesSymbol})`
          : r.type === 'always-revert'
            ? 'AlwaysRevert'
            : 'AlwaysRevertAll';
  return `${r.name} ${what}${r.revertAll ? ' revertAll' : ''} p${r.priority}${r.provides ? ` -> ${r.provides}` : ''}`;
}

function describeTask(t: TaskSpec): string {
  const parts = [`${t.name} p${t.priority}`];
  if (t.requires.length > 0) parts.push(`needs ${t.requires.join(',')}`);
  if (t.provides) parts.push(`-> ${t.provides}`);
  if (t.failOn === 'always' || t.failOn.length > 0)
    parts.push(`FAILS ${t.failOn === 'always' ? 'always' : `on #${t.failOn.join(',#')}`}`);
  if (t.revertFailOn === 'always' || t.revertFailOn.length > 0)
    parts.push(
      `REVERT FAILS ${t.revertFailOn === 'always' ? 'always' : `on #${t.revertFailOn.join(',#')}`}`,
    );
  return parts.join(' ');
}

/** The spec as an indented tree, one line per flow and atom. */
export function describeSpec(spec: CaseSpec): string {
  const lines: string[] = [];
  const visit = (f: FlowSpec, indent: string): void => {
    const links = f.links?.length
      ? ` links ${f.links.map(([a, b]) => `${a}->${b}`).join(' ')}`
      : '';
    lines.push(`${indent}${f.name} ${f.type}${links}`);
    if (f.retry) lines.push(`${indent}  retry ${describeRetry(f.retry)}`);
    for (const child of f.children) {
      if (child.kind === 'flow') visit(child, `${indent}  `);
      else lines.push(`${indent}  ${describeTask(child)}`);
    }
  };
  visit(spec.flow, '');
  if (Object.keys(spec.store).length > 0) lines.push(`store ${JSON.stringify(spec.store)}`);
  return lines.join('\n');
}

/** Both call logs side by side, with the first divergence marked. */
export function sideBySide(taskflow: readonly string[], ours: readonly string[]): string {
  const width = Math.max(10, ...taskflow.map((c) => c.length));
  const lines = [`     ${'TaskFlow'.padEnd(width)}  ours`];
  let diverged = false;
  for (let i = 0; i < Math.max(taskflow.length, ours.length); i++) {
    const a = taskflow[i] ?? '';
    const b = ours[i] ?? '';
    const mark = !diverged && a !== b ? '>>' : '  ';
    if (a !== b) diverged = true;
    lines.push(`${mark}${String(i).padStart(3)} ${a.padEnd(width)}  ${b}`);
  }
  return lines.join('\n');
}

/** A readable account of one disagreement. */
export function formatDisagreement(
  spec: CaseSpec,
  mode: string,
  ours: Outcome,
  taskflow: readonly Outcome[],
  verdict: Verdict,
): string {
  const tf = taskflow[verdict.variant] as Outcome;
  const out = [
    `=== ${spec.id} (${mode}; TaskFlow outcome ${verdict.variant + 1} of ${taskflow.length}) ===`,
    describeSpec(spec),
    sideBySide(tf.calls, ours.calls),
  ];
  for (const d of verdict.diffs) {
    if (d.field === 'calls') continue;
    out.push(
      `${d.field}:\n  TaskFlow ${JSON.stringify(d.taskflow)}\n  ours     ${JSON.stringify(d.ours)}`,
    );
  }
  for (const a of verdict.allowed) out.push(`allowed ${a.rule}: ${a.reason}`);
  for (const note of ours.notes ?? []) out.push(`our engine failed an atom itself: ${note}`);
  return out.join('\n');
}

/** A coarse category of a disagreement, for grouping: where the call logs first part. */
export function categorise(verdict: Verdict, taskflow: Outcome, ours: Outcome): string {
  const fields = verdict.diffs.map((d) => d.field);
  if (fields.includes('invariant')) return 'ours reverts an atom that did not run, or out of order';
  if (fields.includes('error')) return 'a run errored or timed out';
  if (!fields.includes('calls')) return `same calls; ${fields.join(', ')} differ`;
  const tf = taskflow.calls;
  const our = ours.calls;
  let i = 0;
  while (i < tf.length && i < our.length && tf[i] === our[i]) i++;
  const op = (c: string | undefined): string =>
    c === undefined ? 'ends' : (c.split(' ')[0] as string);
  const [a, b] = [op(tf[i]), op(our[i])];
  if (a === 'execute' && b === 'revert') return 'TaskFlow executes where ours starts reverting';
  if (a === 'execute' && b === 'execute') return 'atoms execute in a different order';
  if (a === 'revert' && b === 'revert') return 'atoms revert in a different order';
  if (a === 'revert' && b === 'execute') return 'ours executes where TaskFlow reverts';
  return `TaskFlow ${a === 'ends' ? 'stops' : `${a}s`} where ours ${b === 'ends' ? 'stops' : `${b}s`}`;
}
