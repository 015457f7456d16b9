import type { Atom } from '../core/atom.ts';
import type { ValidationIssue } from '../core/errors.ts';
import { Retry } from '../core/retry.ts';
import { Flow, type FlowChild } from '../patterns/flow.ts';
import type { Decider, DeciderDepth, GraphFlow } from '../patterns/graph-flow.ts';

/** A flow of the tree, as compiled. */
export interface CompiledFlow {
  readonly flow: Flow;
  readonly parent: CompiledFlow | undefined;
  /** Index among the parent's children. */
  readonly position: number;
  readonly start: number;
  end: number;
  readonly retry: number | undefined;
  /** Per child: its atom node, or its compiled flow. */
  readonly children: (number | CompiledFlow)[];
  /** Every node inside, nested flows included (virtual start/end nodes too). */
  readonly nodes: number[];
}

/** An incoming link with a decider, kept on the node the link enters. */
export interface DeciderLink {
  /** Atoms whose results the decider sees: the source atom, or every atom of a source flow. */
  readonly sources: readonly number[];
  readonly decider: Decider;
  readonly depth: DeciderDepth;
}

/**
 * One node of the execution graph: an atom, or a virtual start/end node of a flow (those keep
 * the graph small: a flow of n children joined to a flow of m costs n + m edges, not n × m).
 */
export interface CompiledNode {
  readonly index: number;
  readonly atom: Atom | undefined;
  /** For an atom, the flow holding it; for a virtual node, its own flow. */
  readonly flow: CompiledFlow;
  /** Index among the flow's children; -1 for a flow's retry and for virtual nodes. */
  readonly position: number;
  readonly successors: number[];
  readonly predecessors: number[];
  /** Shared and empty for the many nodes without deciders; replaced when one is added. */
  deciders: readonly DeciderLink[];
}

export interface CompiledGraph {
  readonly root: CompiledFlow;
  readonly nodes: readonly CompiledNode[];
  /** Atom nodes in definition order. */
  readonly atoms: readonly number[];
  readonly byName: ReadonlyMap<string, number>;
  /** Position of each node in one topological order of the whole graph. */
  readonly topoRank: Int32Array;
  /** The nodes in that order. */
  readonly topoOrder: readonly number[];
  readonly issues: readonly ValidationIssue[];
}

const NO_DECIDERS: readonly DeciderLink[] = Object.freeze([]);

/** Flattens a flow tree into one execution graph, collecting definition problems instead of stopping at the first. */
export function compile(root: Flow): CompiledGraph {
  const nodes: CompiledNode[] = [];
  const atoms: number[] = [];
  const byName = new Map<string, number>();
  const issues: ValidationIssue[] = [];
  const seenObjects = new Set<FlowChild>();

  const addNode = (atom: Atom | undefined, flow: CompiledFlow, position: number): number => {
    const index = nodes.length;
    nodes.push({
      index,
      atom,
      flow,
      position,
      successors: [],
      predecessors: [],
      deciders: NO_DECIDERS,
    });
    for (let f: CompiledFlow | undefined = flow; f; f = f.parent) f.nodes.push(index);
    if (atom) {
      atoms.push(index);
      const existing = byName.get(atom.name);
      if (existing === undefined) byName.set(atom.name, index);
      // The same object twice is reported once, as DUPLICATE_ATOM.
      else if (nodes[existing]?.atom !== atom) {
        issues.push({
          code: 'DUPLICATE_NAME',
          atom: atom.name,
          message: `Two atoms are named "${atom.name}" (in flows "${nodes[existing]?.flow.flow.name}" and "${flow.flow.name}"); names must be unique across the whole flow, so rename one.`,
        });
      }
    }
    return index;
  };
  const link = (from: number, to: number): void => {
    nodes[from]?.successors.push(to);
    nodes[to]?.predecessors.push(from);
  };

  const compileFlow = (
    flow: Flow,
    parent: CompiledFlow | undefined,
    position: number,
  ): CompiledFlow => {
    const compiled: CompiledFlow = {
      flow,
      parent,
      position,
      start: -1,
      end: -1,
      retry: undefined,
      children: [],
      nodes: [],
    };
    const start = addNode(undefined, compiled, -1);
    const retry = flow.retry ? addNode(flow.retry, compiled, -1) : undefined;
    Object.assign(compiled, { start, retry });
    if (retry !== undefined) link(start, retry);
    const head = retry ?? start;
    flow.children.forEach((child, index) => {
      if (seenObjects.has(child)) {
        issues.push({
          code: 'DUPLICATE_ATOM',
          atom: child.name,
          message: `"${child.name}" is added twice (again in flow "${flow.name}"); build a second instance with its own name instead of reusing the object.`,
        });
      }
      seenObjects.add(child);
      if (child instanceof Retry) {
        issues.push({
          code: 'RETRY_AS_CHILD',
          atom: child.name,
          message: `Retry "${child.name}" was added to flow "${flow.name}" as a plain child; attach it with the flow's "retry" option instead.`,
        });
      }
      compiled.children.push(
        child instanceof Flow
          ? compileFlow(child, compiled, index)
          : addNode(child, compiled, index),
      );
    });
    compiled.end = addNode(undefined, compiled, -1);
    const entry = (c: number | CompiledFlow): number => (typeof c === 'number' ? c : c.start);
    const exit = (c: number | CompiledFlow): number => (typeof c === 'number' ? c : c.end);
    switch (flow.kind) {
      case 'linear': {
        let previous = head;
        for (const child of compiled.children) {
          link(previous, entry(child));
          previous = exit(child);
        }
        link(previous, compiled.end);
        break;
      }
      case 'unordered':
        for (const child of compiled.children) {
          link(head, entry(child));
          link(exit(child), compiled.end);
        }
        if (compiled.children.length === 0) link(head, compiled.end);
        break;
      case 'graph': {
        const graph = flow as GraphFlow;
        const hasIn = new Uint8Array(compiled.children.length);
        const hasOut = new Uint8Array(compiled.children.length);
        for (const edge of graph.edges) {
          const from = compiled.children[edge.from];
          const to = compiled.children[edge.to];
          if (from === undefined || to === undefined) continue;
          link(exit(from), entry(to));
          hasOut[edge.from] = 1;
          hasIn[edge.to] = 1;
          if (edge.decider) {
            const sources =
              typeof from === 'number' ? [from] : from.nodes.filter((n) => nodes[n]?.atom);
            const target = nodes[entry(to)];
            if (target)
              target.deciders = [
                ...target.deciders,
                { sources, decider: edge.decider, depth: edge.depth },
              ];
          }
        }
        compiled.children.forEach((child, index) => {
          if (hasIn[index] === 0) link(head, entry(child));
          if (hasOut[index] === 0) link(exit(child), compiled.end);
        });
        if (compiled.children.length === 0) link(head, compiled.end);
        break;
      }
    }
    return compiled;
  };

  const compiledRoot = compileFlow(root, undefined, -1);
  const { rank, order } = rankTopologically(nodes);
  return { root: compiledRoot, nodes, atoms, byName, topoRank: rank, topoOrder: order, issues };
}

function rankTopologically(nodes: readonly CompiledNode[]): { rank: Int32Array; order: number[] } {
  const rank = new Int32Array(nodes.length);
  const indegree = new Int32Array(nodes.length);
  for (const node of nodes) indegree[node.index] = node.predecessors.length;
  const queue: number[] = [];
  for (const node of nodes) if (node.predecessors.length === 0) queue.push(node.index);
  for (let i = 0; i < queue.length; i++) {
    const index = queue[i] as number;
    rank[index] = i;
    for (const next of nodes[index]?.successors ?? []) {
      indegree[next] = (indegree[next] ?? 0) - 1;
      if (indegree[next] === 0) queue.push(next);
    }
  }
  return { rank, order: queue };
}
