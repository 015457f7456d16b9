import { Flow } from '../patterns/flow.ts';
import type { GraphFlow } from '../patterns/graph-flow.ts';
import type { CompiledFlow, CompiledGraph } from './compile.ts';

/**
 * Finds who may provide a symbol to an atom, nearest first (SEMANTICS.md "Data flow"): the
 * earlier siblings of a linear flow (most recent first), the graph predecessors in a graph flow,
 * nobody in an unordered flow, then the flow's retry, then the same one level up. Each yielded
 * group holds providers at the same distance; more than one in the first group is ambiguous.
 */
export class ProviderIndex {
  readonly #graph: CompiledGraph;
  readonly #positions = new Map<CompiledFlow, Map<string, number[]>>();
  readonly #predecessors = new Map<CompiledFlow, number[][]>();

  constructor(graph: CompiledGraph) {
    this.#graph = graph;
  }

  *groups(nodeIndex: number, symbol: string): Generator<readonly number[]> {
    const node = this.#graph.nodes[nodeIndex];
    if (!node) return;
    let flow: CompiledFlow | undefined = node.flow;
    let position = node.position;
    if (flow.retry === nodeIndex) {
      // A retry runs before its flow's children, so only what is outside its flow is visible.
      position = flow.position;
      flow = flow.parent;
    }
    for (; flow; position = flow.position, flow = flow.parent) {
      yield* this.#siblings(flow, position, symbol);
      if (flow.retry !== undefined && this.#provides(flow.retry, symbol)) yield [flow.retry];
    }
  }

  /** The providers whose values are visible right after `flow` (or an atom) finishes. */
  *exitGroups(child: number | CompiledFlow, symbol: string): Generator<readonly number[]> {
    if (typeof child === 'number') {
      if (this.#provides(child, symbol)) yield [child];
      return;
    }
    const positions = this.#positionsOf(child, symbol);
    if (child.flow.kind === 'linear') {
      for (let i = positions.length - 1; i >= 0; i--)
        yield* this.#exitOf(child, positions[i] as number, symbol);
    } else if (positions.length > 0) {
      const frontier = child.flow.kind === 'graph' ? this.#unshadowed(child, positions) : positions;
      yield frontier.flatMap((p) => this.#firstExit(child, p, symbol));
    }
    if (child.retry !== undefined && this.#provides(child.retry, symbol)) yield [child.retry];
  }

  *#siblings(flow: CompiledFlow, position: number, symbol: string): Generator<readonly number[]> {
    const positions = this.#positionsOf(flow, symbol);
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
        // Inferred links join a consumer to its providers directly; walking all ancestors is
        // needed only for symbols no direct predecessor provides (optional arguments).
        const direct = (this.#childPredecessors(flow)[position] ?? []).filter((p) =>
          positions.includes(p),
        );
        let visible = direct;
        if (visible.length === 0) {
          const ancestors = this.#ancestors(flow, position);
          visible = positions.filter((p) => ancestors.has(p));
        }
        if (visible.length > 0)
          yield this.#unshadowed(flow, visible).flatMap((p) => this.#firstExit(flow, p, symbol));
        return;
      }
    }
  }

  *#exitOf(flow: CompiledFlow, position: number, symbol: string): Generator<readonly number[]> {
    const child = flow.children[position];
    if (child !== undefined) yield* this.exitGroups(child, symbol);
  }

  #firstExit(flow: CompiledFlow, position: number, symbol: string): readonly number[] {
    for (const group of this.#exitOf(flow, position, symbol)) return group;
    return [];
  }

  #provides(nodeIndex: number, symbol: string): boolean {
    return this.#graph.nodes[nodeIndex]?.atom?.providedSymbols.includes(symbol) ?? false;
  }

  /** Child positions of `flow` whose subtree provides `symbol`, ascending. */
  #positionsOf(flow: CompiledFlow, symbol: string): readonly number[] {
    let index = this.#positions.get(flow);
    if (!index) {
      index = new Map();
      flow.flow.children.forEach((child, position) => {
        const symbols = child instanceof Flow ? child.provides : child.providedSymbols;
        for (const s of symbols) {
          const list = index?.get(s);
          if (list) list.push(position);
          else index?.set(s, [position]);
        }
      });
      this.#positions.set(flow, index);
    }
    return index.get(symbol) ?? [];
  }

  #childPredecessors(flow: CompiledFlow): number[][] {
    let preds = this.#predecessors.get(flow);
    if (!preds) {
      const built: number[][] = flow.flow.children.map(() => []);
      for (const edge of (flow.flow as GraphFlow).edges) built[edge.to]?.push(edge.from);
      preds = built;
      this.#predecessors.set(flow, preds);
    }
    return preds;
  }

  /** Positions from which `position` is reachable inside a graph flow. */
  #ancestors(flow: CompiledFlow, position: number): Set<number> {
    const preds = this.#childPredecessors(flow);
    const seen = new Set<number>();
    const stack = [...(preds[position] ?? [])];
    while (stack.length > 0) {
      const p = stack.pop() as number;
      if (seen.has(p)) continue;
      seen.add(p);
      stack.push(...(preds[p] ?? []));
    }
    return seen;
  }

  /** Drops providers that run before another provider in the set: the later one shadows them. */
  #unshadowed(flow: CompiledFlow, positions: readonly number[]): number[] {
    if (positions.length < 2) return [...positions];
    return positions.filter(
      (p) => !positions.some((q) => q !== p && this.#ancestors(flow, q).has(p)),
    );
  }
}
