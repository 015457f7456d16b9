import type { GraphFlow } from '../patterns/graph-flow.ts';
import type { CompiledFlow, CompiledGraph } from './compile.ts';

/**
 * Finds who may provide a symbol to an atom, nearest first (docs/semantics.md, "Data flow"): the
 * earlier siblings of a linear flow (most recent first), the graph predecessors in a graph flow,
 * nobody in an unordered flow, then the flow's retry, then the same one level up. Providers at
 * the same distance form a group; more than one in the nearest group is ambiguous.
 *
 * `nearest` answers the common question (validation, and every input at run time) without
 * allocating; `groups` lists every group for the rare fallback when the nearest provider has
 * no visible result (it was ignored by a decider).
 */
export class ProviderIndex {
  readonly #graph: CompiledGraph;
  /** Per flow, per symbol: the first group of providers visible right after the flow ends. */
  readonly #exits = new Map<CompiledFlow, Map<string, readonly number[]>>();
  readonly #single = new Map<number, readonly number[]>();

  constructor(graph: CompiledGraph) {
    this.#graph = graph;
  }

  /** The nearest group of providers of `symbol` visible to the node, or undefined when there is none. */
  nearest(nodeIndex: number, symbol: string): readonly number[] | undefined {
    let [flow, position] = this.#firstLevel(nodeIndex);
    for (; flow; position = flow.position, flow = flow.parent) {
      const group = this.#nearestSiblings(flow, position, symbol);
      if (group) return group;
      if (flow.retry !== undefined && this.#provides(flow.retry, symbol))
        return this.#one(flow.retry);
    }
    return undefined;
  }

  /** Every group of providers visible to the node, nearest first. */
  *groups(nodeIndex: number, symbol: string): Generator<readonly number[]> {
    let [flow, position] = this.#firstLevel(nodeIndex);
    for (; flow; position = flow.position, flow = flow.parent) {
      yield* this.#siblings(flow, position, symbol);
      if (flow.retry !== undefined && this.#provides(flow.retry, symbol))
        yield this.#one(flow.retry);
    }
  }

  /** The providers whose values are visible right after `child` (an atom or a flow) finishes, nearest first. */
  *exitGroups(child: number | CompiledFlow, symbol: string): Generator<readonly number[]> {
    if (typeof child === 'number') {
      if (this.#provides(child, symbol)) yield this.#one(child);
      return;
    }
    const positions = child.flow.childrenProviding(symbol);
    if (child.flow.kind === 'linear') {
      for (let i = positions.length - 1; i >= 0; i--)
        yield* this.#exitOf(child, positions[i] as number, symbol);
    } else if (positions.length > 0) {
      yield this.#frontier(child, positions, symbol);
    }
    if (child.retry !== undefined && this.#provides(child.retry, symbol))
      yield this.#one(child.retry);
  }

  /** The innermost flow whose children may be visible to the node, and the node's position in it. */
  #firstLevel(nodeIndex: number): [CompiledFlow | undefined, number] {
    const node = this.#graph.nodes[nodeIndex];
    if (!node) return [undefined, -1];
    // A retry runs before its flow's children, so only what is outside its flow is visible.
    if (node.flow.retry === nodeIndex) return [node.flow.parent, node.flow.position];
    return [node.flow, node.position];
  }

  #nearestSiblings(
    flow: CompiledFlow,
    position: number,
    symbol: string,
  ): readonly number[] | undefined {
    const positions = flow.flow.childrenProviding(symbol);
    if (positions.length === 0) return undefined;
    switch (flow.flow.kind) {
      case 'linear':
        for (let i = positions.length - 1; i >= 0; i--) {
          const p = positions[i] as number;
          if (p < position) return this.#firstExit(flow, p, symbol);
        }
        return undefined;
      case 'unordered':
        return undefined;
      case 'graph': {
        const visible = this.#visibleInGraph(flow, position, positions);
        return visible.length > 0 ? this.#frontier(flow, visible, symbol) : undefined;
      }
    }
  }

  *#siblings(flow: CompiledFlow, position: number, symbol: string): Generator<readonly number[]> {
    const positions = flow.flow.childrenProviding(symbol);
    if (positions.length === 0) return;
    switch (flow.flow.kind) {
      case 'linear':
        for (let i = positions.length - 1; i >= 0; i--) {
          const p = positions[i] as number;
          if (p < position) yield* this.#exitOf(flow, p, symbol);
        }
        return;
      case 'unordered':
        return;
      case 'graph': {
        const visible = this.#visibleInGraph(flow, position, positions);
        if (visible.length > 0) yield this.#frontier(flow, visible, symbol);
        return;
      }
    }
  }

  /** Providing children of a graph that run before `position`. */
  #visibleInGraph(
    flow: CompiledFlow,
    position: number,
    positions: readonly number[],
  ): readonly number[] {
    // Inferred links join a consumer to its providers directly; walking all ancestors is
    // needed only for symbols no direct predecessor provides (optional arguments).
    const predecessors = (flow.flow as GraphFlow).childPredecessors[position] ?? [];
    const direct = predecessors.filter((p) => positions.includes(p));
    if (direct.length > 0) return direct;
    const ancestors = this.#ancestors(flow, position);
    return positions.filter((p) => ancestors.has(p));
  }

  /** The nearest providers inside the given children of an unordered or graph flow. */
  #frontier(flow: CompiledFlow, positions: readonly number[], symbol: string): readonly number[] {
    const unshadowed = flow.flow.kind === 'graph' ? this.#unshadowed(flow, positions) : positions;
    if (unshadowed.length === 1) return this.#firstExit(flow, unshadowed[0] as number, symbol);
    return unshadowed.flatMap((p) => this.#firstExit(flow, p, symbol));
  }

  *#exitOf(flow: CompiledFlow, position: number, symbol: string): Generator<readonly number[]> {
    const child = flow.children[position];
    if (child !== undefined) yield* this.exitGroups(child, symbol);
  }

  /** The first of the child's exit groups, memoised per flow and symbol. */
  #firstExit(flow: CompiledFlow, position: number, symbol: string): readonly number[] {
    const child = flow.children[position];
    if (child === undefined) return [];
    if (typeof child === 'number') return this.#provides(child, symbol) ? this.#one(child) : [];
    let bySymbol = this.#exits.get(child);
    if (!bySymbol) {
      bySymbol = new Map();
      this.#exits.set(child, bySymbol);
    }
    let group = bySymbol.get(symbol);
    if (!group) {
      group = [];
      for (const first of this.exitGroups(child, symbol)) {
        group = first;
        break;
      }
      bySymbol.set(symbol, group);
    }
    return group;
  }

  #one(nodeIndex: number): readonly number[] {
    let group = this.#single.get(nodeIndex);
    if (!group) {
      group = [nodeIndex];
      this.#single.set(nodeIndex, group);
    }
    return group;
  }

  #provides(nodeIndex: number, symbol: string): boolean {
    return this.#graph.nodes[nodeIndex]?.atom?.providedSymbols.includes(symbol) ?? false;
  }

  /** Positions from which `position` is reachable inside a graph flow. */
  #ancestors(flow: CompiledFlow, position: number): Set<number> {
    const predecessors = (flow.flow as GraphFlow).childPredecessors;
    const seen = new Set<number>();
    const stack = [...(predecessors[position] ?? [])];
    while (stack.length > 0) {
      const p = stack.pop() as number;
      if (seen.has(p)) continue;
      seen.add(p);
      stack.push(...(predecessors[p] ?? []));
    }
    return seen;
  }

  /** Drops providers that run before another provider in the set: the later one shadows them. */
  #unshadowed(flow: CompiledFlow, positions: readonly number[]): readonly number[] {
    if (positions.length < 2) return positions;
    return positions.filter(
      (p) => !positions.some((q) => q !== p && this.#ancestors(flow, q).has(p)),
    );
  }
}
