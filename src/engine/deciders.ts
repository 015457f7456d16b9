import type { DeciderDepth } from '../patterns/graph-flow.ts';
import type { AtomRecord } from './atom-record.ts';
import type { CompiledGraph } from './compile.ts';

const DEPTH_RANK: Readonly<Record<DeciderDepth, number>> = {
  ATOM: 0,
  NEIGHBORS: 1,
  FLOW: 2,
  ALL: 3,
};

/**
 * Runs the deciders on the links into a node that is about to become ready and returns the
 * atoms their "no" ignores (as TaskFlow): links whose source was itself ignored do not vote,
 * any "no" wins, and the widest depth among the "no"s applies. A decider that throws votes no.
 */
export function ignoredBy(
  graph: CompiledGraph,
  records: readonly (AtomRecord | undefined)[],
  index: number,
  reportError: (error: unknown) => void,
): number[] {
  const node = graph.nodes[index];
  if (!node) return [];
  const voting = node.deciders.filter((link) =>
    link.sources.some((s) => records[s]?.state !== 'IGNORE'),
  );
  if (voting.length === 0) return [];
  const history: Record<string, unknown> = {};
  for (const link of voting) {
    for (const source of link.sources) {
      const record = records[source];
      if (record?.state === 'SUCCESS') history[record.atom.name] = record.result;
    }
  }
  let widest: DeciderDepth | undefined;
  for (const link of voting) {
    let yes: boolean;
    try {
      yes = Boolean(link.decider(history));
    } catch (error) {
      reportError(error);
      yes = false;
    }
    if (!yes && (widest === undefined || DEPTH_RANK[link.depth] > DEPTH_RANK[widest]))
      widest = link.depth;
  }
  return widest === undefined ? [] : affected(graph, index, widest);
}

function affected(graph: CompiledGraph, entry: number, depth: DeciderDepth): number[] {
  const isAtom = (i: number): boolean => graph.nodes[i]?.atom !== undefined;
  const isTask = (i: number): boolean => graph.nodes[i]?.atom?.kind === 'task';
  const successors = (i: number): readonly number[] => graph.nodes[i]?.successors ?? [];
  // A flow as the target stands for its first atoms.
  const targets = isAtom(entry)
    ? [entry]
    : walk([entry], successors, (i) => !isAtom(i)).filter(isAtom);
  switch (depth) {
    case 'ATOM':
      return targets;
    case 'NEIGHBORS':
      return [...new Set([...targets, ...targets.flatMap((t) => successors(t).filter(isTask))])];
    case 'FLOW':
      return walk(
        targets,
        (i) => successors(i).filter(isTask),
        () => true,
      );
    case 'ALL':
      return walk([entry], successors, () => true).filter(isAtom);
  }
}

/** Nodes reachable from `start` (included), expanding only nodes for which `expand` holds. */
function walk(
  start: readonly number[],
  next: (i: number) => readonly number[],
  expand: (i: number) => boolean,
): number[] {
  const seen = new Set<number>(start);
  const stack = [...start];
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (!expand(i)) continue;
    for (const n of next(i)) {
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  return [...seen];
}
