/**
 * Random flow specs for the differential test, deterministic from a seed (mulberry32).
 *
 * Each case is a tree of linear, unordered and graph flows (depth 1 to 3, 2 to 8 tasks in all)
 * with retries of every built-in kind attached to some flows, tasks failing on chosen attempts,
 * reverts that fail, distinct priorities on every atom, and data passed between tasks.
 *
 * Every symbol has exactly one provider, and a task only requires a symbol that is visible to it
 * in both engines and runs before it: an earlier sibling (at any depth) in a linear flow, an
 * earlier child of a graph flow (which makes the edge), or the retry of an enclosing flow. No
 * store entry is ever shadowed by a producer, so the documented "producer beats store"
 * difference cannot arise.
 */
import { createHash } from 'node:crypto';
import type { CaseSpec, FailOn, FlowSpec, FlowType, RetrySpec } from './spec.ts';

/** Bump when the generator changes, so a stale recording is detected. */
export const GENERATOR_VERSION = 1;

export type Random = () => number;

/** A small, fast, seeded PRNG (mulberry32); returns floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: Random, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Random, items: readonly T[]): T => items[int(rng, 0, items.length - 1)] as T;
const chance = (rng: Random, p: number): boolean => rng() < p;

function shuffle<T>(rng: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = int(rng, 0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Mutable while generating; frozen into the readonly spec types at the end. */
interface DraftTask {
  kind: 'task';
  name: string;
  priority: number;
  requires: string[];
  provides?: string;
  failOn: FailOn;
  revertFailOn: FailOn;
}
interface DraftRetry {
  name: string;
  type: RetrySpec['type'];
  priority: number;
  provides?: string;
  attempts?: number;
  values?: (number | string)[];
  valuesSymbol?: string;
  revertAll?: boolean;
}
interface DraftFlow {
  kind: 'flow';
  type: FlowType;
  name: string;
  children: (DraftFlow | DraftTask)[];
  retry?: DraftRetry;
  links?: [string, string][];
}

class Names {
  #tasks = 0;
  #flows = 0;
  #retries = 0;
  task = (): string => `t${++this.#tasks}`;
  flow = (): string => `f${++this.#flows}`;
  retry = (): string => `r${++this.#retries}`;
}

function failOn(rng: Random): FailOn {
  const roll = rng();
  if (roll < 0.6) return [];
  if (roll < 0.78) return [1];
  if (roll < 0.84) return [2];
  if (roll < 0.9) return [1, 2];
  return 'always';
}

function revertFailOn(rng: Random): FailOn {
  const roll = rng();
  if (roll < 0.9) return [];
  if (roll < 0.95) return [1];
  return 'always';
}

function newTask(rng: Random, names: Names): DraftTask {
  return {
    kind: 'task',
    name: names.task(),
    priority: 0,
    requires: [],
    failOn: failOn(rng),
    revertFailOn: revertFailOn(rng),
  };
}

const VALUE_POOL: readonly (number | string)[] = [1, 2, 3, 'a', 'b'];

function newRetry(rng: Random, names: Names, store: Record<string, (number | string)[]>) {
  const name = names.retry();
  const type = pick(rng, [
    'times',
    'times',
    'foreach',
    'pforeach',
    'always-revert',
    'always-revert-all',
  ] as const);
  const retry: DraftRetry = { name, type, priority: 0 };
  const values = (): (number | string)[] =>
    Array.from({ length: int(rng, 1, 3) }, () => pick(rng, VALUE_POOL));
  if (type === 'times') retry.attempts = int(rng, 1, 3);
  if (type === 'foreach') retry.values = values();
  if (type === 'pforeach') {
    retry.valuesSymbol = `vals_${name}`;
    store[retry.valuesSymbol] = values();
  }
  if ((type === 'times' || type === 'foreach' || type === 'pforeach') && chance(rng, 0.25))
    retry.revertAll = true;
  if (type !== 'always-revert' && type !== 'always-revert-all' && chance(rng, 0.6))
    retry.provides = `v_${name}`;
  return retry;
}

/** A flow holding `size` tasks in all, at nesting `depth` (the root is 1). */
function newFlow(
  rng: Random,
  names: Names,
  store: Record<string, (number | string)[]>,
  depth: number,
  size: number,
): DraftFlow {
  const flow: DraftFlow = {
    kind: 'flow',
    type: pick(rng, ['linear', 'unordered', 'graph'] as const),
    name: names.flow(),
    children: [],
  };
  if (chance(rng, depth === 1 ? 0.35 : 0.5)) flow.retry = newRetry(rng, names, store);
  let left = size;
  while (left > 0) {
    const part = Math.min(left, int(rng, 1, Math.min(4, left)));
    left -= part;
    const nest = depth < 3 && (part > 1 ? chance(rng, 0.6) : chance(rng, 0.15));
    if (nest) flow.children.push(newFlow(rng, names, store, depth + 1, part));
    else for (let i = 0; i < part; i++) flow.children.push(newTask(rng, names));
  }
  return flow;
}

function providedIn(child: DraftFlow | DraftTask): string[] {
  if (child.kind === 'task') return child.provides ? [child.provides] : [];
  return [
    ...(child.retry?.provides ? [child.retry.provides] : []),
    ...child.children.flatMap(providedIn),
  ];
}

/**
 * Picks requirements: each task may require symbols that are visible to it and produced before
 * it. `available` holds what the enclosing flows make visible at this point.
 */
function wire(rng: Random, flow: DraftFlow, available: readonly string[]): void {
  const base = flow.retry?.provides ? [...available, flow.retry.provides] : [...available];
  const visit = (child: DraftFlow | DraftTask, visible: readonly string[]): void => {
    if (child.kind === 'flow') {
      wire(rng, child, visible);
      return;
    }
    const candidates = shuffle(rng, [...visible]);
    const count = candidates.length === 0 ? 0 : pick(rng, [0, 0, 1, 1, 2]);
    child.requires = candidates.slice(0, count).sort();
  };
  if (flow.type === 'linear') {
    const seen = [...base];
    for (const child of flow.children) {
      visit(child, seen);
      seen.push(...providedIn(child));
    }
  } else if (flow.type === 'unordered') {
    for (const child of flow.children) visit(child, base);
  } else {
    const earlier: string[] = [];
    for (const child of flow.children) {
      visit(child, [...base, ...earlier]);
      earlier.push(...providedIn(child));
    }
    const links: [string, string][] = [];
    const n = flow.children.length;
    if (n > 1) {
      for (let k = int(rng, 0, 2); k > 0; k--) {
        const i = int(rng, 0, n - 2);
        const j = int(rng, i + 1, n - 1);
        const link: [string, string] = [
          (flow.children[i] as DraftFlow | DraftTask).name,
          (flow.children[j] as DraftFlow | DraftTask).name,
        ];
        if (!links.some(([a, b]) => a === link[0] && b === link[1])) links.push(link);
      }
    }
    if (links.length > 0) flow.links = links;
  }
}

function allAtoms(flow: DraftFlow): (DraftTask | DraftRetry)[] {
  return [
    ...(flow.retry ? [flow.retry] : []),
    ...flow.children.flatMap((c) => (c.kind === 'task' ? [c] : allAtoms(c))),
  ];
}

function allTasks(flow: DraftFlow): DraftTask[] {
  return flow.children.flatMap((c) => (c.kind === 'task' ? [c] : allTasks(c)));
}

/** The case for one seed. */
export function generateCase(seed: number): CaseSpec {
  const rng = mulberry32(seed);
  const names = new Names();
  const store: Record<string, (number | string)[]> = {};
  const flow = newFlow(rng, names, store, 1, int(rng, 2, 8));
  for (const t of allTasks(flow)) if (chance(rng, 0.5)) t.provides = `s_${t.name}`;
  wire(rng, flow, []);
  const atoms = allAtoms(flow);
  const priorities = shuffle(
    rng,
    atoms.map((_, i) => i + 1),
  );
  atoms.forEach((atom, i) => {
    atom.priority = priorities[i] as number;
  });
  // Most interesting cases have a failure; make sure at least three in four do.
  const tasks = allTasks(flow);
  if (!tasks.some((t) => t.failOn === 'always' || t.failOn.length > 0) && chance(rng, 0.75)) {
    pick(rng, tasks).failOn = pick(rng, [[1], 'always'] as const);
  }
  return { id: `seed-${seed}`, seed, store, flow: flow as FlowSpec };
}

/** A short hash of a spec, stored with its recording. */
export function specHash(spec: CaseSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export function generateCases(seeds: readonly number[]): CaseSpec[] {
  return seeds.map(generateCase);
}

/** The seeds of the recorded corpus. */
export const DEFAULT_SEEDS: readonly number[] = Array.from({ length: 300 }, (_, i) => i + 1);
