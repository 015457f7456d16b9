import { TaskFlowError, ValidationError } from '../core/errors.ts';
import { Flow, type FlowChild, type FlowOptions, requiredBy } from './flow.ts';

/** How far a decider's "no" reaches (as TaskFlow). */
export const DECIDER_DEPTHS = ['ALL', 'FLOW', 'NEIGHBORS', 'ATOM'] as const;
/** How much a decider's "no" ignores: everything after the target, its flow, its neighbours, or only it. */
export type DeciderDepth = (typeof DECIDER_DEPTHS)[number];

/**
 * Decides whether the target of a link runs, from the results of the atoms in the link's source
 * (atom name → result). Returning false ignores the target (and more, depending on the depth).
 */
export type Decider = (history: Readonly<Record<string, unknown>>) => boolean;

/**
 * Options of {@link GraphFlow.link}.
 *
 * @example
 * flow.link('check', 'upgrade', { decider: (results) => results.check === 'outdated', depth: 'ATOM' });
 */
export interface LinkOptions {
  readonly decider?: Decider;
  /** Default 'ALL': everything reachable from the target is ignored too. */
  readonly depth?: DeciderDepth;
}

/** An edge between two children of a graph flow, by child index. */
export interface GraphEdge {
  readonly from: number;
  readonly to: number;
  readonly decider: Decider | undefined;
  readonly depth: DeciderDepth;
}

/** A link given up front in {@link GraphFlowOptions}: source and target child names, and its options. */
export interface ExplicitLink {
  readonly from: string;
  readonly to: string;
  readonly options: LinkOptions;
}

/**
 * Options of {@link graphFlow}: a flow's options plus links given up front.
 *
 * @example
 * graphFlow('g', [a, b], { links: [{ from: 'a', to: 'b', options: {} }] });
 */
export interface GraphFlowOptions extends FlowOptions {
  readonly links?: readonly ExplicitLink[];
}

/**
 * Children ordered by their data dependencies (a child requiring a symbol runs after the sibling
 * providing it) plus explicit links, which may carry deciders. Independent branches may run
 * at the same time.
 *
 * @example
 * const g = graphFlow('build', [compile, test, lint]).link('compile', 'lint');
 */
export class GraphFlow extends Flow {
  readonly kind = 'graph' as const;
  readonly links: readonly ExplicitLink[];
  /** Inferred and explicit edges together, by child index. */
  readonly edges: readonly GraphEdge[];
  #predecessors: readonly (readonly number[])[] | undefined;

  constructor(name: string, children: readonly FlowChild[], options: GraphFlowOptions = {}) {
    super(name, children, options);
    this.links = Object.freeze([...(options.links ?? [])]);
    this.edges = Object.freeze(buildEdges(this));
    assertAcyclic(name, this.children, this.edges);
  }

  /** For each child position, the positions of the children it directly depends on. */
  get childPredecessors(): readonly (readonly number[])[] {
    if (!this.#predecessors) {
      const built: number[][] = this.children.map(() => []);
      for (const edge of this.edges) built[edge.to]?.push(edge.from);
      this.#predecessors = built;
    }
    return this.#predecessors;
  }

  add(...children: FlowChild[]): GraphFlow {
    return new GraphFlow(this.name, [...this.children, ...children], {
      retry: this.retry,
      links: this.links,
    });
  }

  /**
   * Returns a new graph flow where `to` runs after `from`. Throws (and leaves this flow as it
   * was) when the link would create a cycle or names no child.
   */
  link(from: FlowChild | string, to: FlowChild | string, options: LinkOptions = {}): GraphFlow {
    const link: ExplicitLink = { from: nameOf(from), to: nameOf(to), options };
    return new GraphFlow(this.name, this.children, {
      retry: this.retry,
      links: [...this.links, link],
    });
  }

  protected externalRequirements(): Set<string> {
    const external = this.retryRequirements();
    const fromRetry = new Set(this.retry?.providedSymbols ?? []);
    this.children.forEach((child, position) => {
      for (const symbol of requiredBy(child)) {
        if (fromRetry.has(symbol)) continue;
        if (!this.childrenProviding(symbol).some((other) => other !== position))
          external.add(symbol);
      }
    });
    return external;
  }
}

/**
 * A flow ordered by its children's data dependencies plus explicit links.
 *
 * @example
 * const flow = graphFlow('network', [createNetwork, createSubnet, createPort]);
 */
export function graphFlow(
  name: string,
  children: readonly FlowChild[] = [],
  options: GraphFlowOptions = {},
): GraphFlow {
  return new GraphFlow(name, children, options);
}

function nameOf(child: FlowChild | string): string {
  return typeof child === 'string' ? child : child.name;
}

function buildEdges(flow: GraphFlow): GraphEdge[] {
  const { name, children, links } = flow;
  // Keyed by from * n + to: numbers hash faster than "from>to" strings on large graphs.
  const n = children.length;
  const edges = new Map<number, GraphEdge>();
  children.forEach((child, to) => {
    for (const symbol of requiredBy(child)) {
      for (const from of flow.childrenProviding(symbol)) {
        if (from !== to) edges.set(from * n + to, { from, to, decider: undefined, depth: 'ALL' });
      }
    }
  });
  const indexByName = new Map(children.map((child, index) => [child.name, index]));
  for (const link of links) {
    const from = indexByName.get(link.from);
    const to = indexByName.get(link.to);
    for (const [end, index] of [
      [link.from, from],
      [link.to, to],
    ] as const) {
      if (index === undefined) {
        throw new TaskFlowError(
          'INVALID_DEFINITION',
          `Graph flow "${name}" has no child named "${end}" to link; add it to the flow before linking it.`,
        );
      }
    }
    if (from === undefined || to === undefined) continue;
    if (from === to) {
      throw new ValidationError([
        {
          code: 'CYCLE',
          atom: link.from,
          message: `Graph flow "${name}" cannot link "${link.from}" to itself; remove that link.`,
        },
      ]);
    }
    edges.set(from * n + to, {
      from,
      to,
      decider: link.options.decider,
      depth: link.options.depth ?? 'ALL',
    });
  }
  return [...edges.values()];
}

/** Throws a CYCLE validation error naming one cycle when the edges are not acyclic. */
function assertAcyclic(
  name: string,
  children: readonly FlowChild[],
  edges: readonly GraphEdge[],
): void {
  const indegree = new Array<number>(children.length).fill(0);
  const successors: number[][] = children.map(() => []);
  for (const edge of edges) {
    indegree[edge.to] = (indegree[edge.to] ?? 0) + 1;
    successors[edge.from]?.push(edge.to);
  }
  const ready: number[] = [];
  indegree.forEach((degree, index) => {
    if (degree === 0) ready.push(index);
  });
  const order: number[] = [];
  for (let i = 0; i < ready.length; i++) {
    const node = ready[i] as number;
    order.push(node);
    for (const next of successors[node] ?? []) {
      indegree[next] = (indegree[next] ?? 0) - 1;
      if (indegree[next] === 0) ready.push(next);
    }
  }
  if (order.length < children.length) {
    const cycle = findCycle(successors, new Set(order)).map(
      (index) => children[index]?.name ?? '?',
    );
    throw new ValidationError([
      {
        code: 'CYCLE',
        atom: cycle[0] ?? name,
        message: `Graph flow "${name}" has a cycle ${cycle.join(' → ')}; remove one of these links or the requirement that implies it.`,
      },
    ]);
  }
}

function findCycle(successors: readonly number[][], done: ReadonlySet<number>): number[] {
  const start = successors.findIndex((_, index) => !done.has(index));
  const path: number[] = [];
  const onPath = new Map<number, number>();
  let node = start;
  while (!onPath.has(node)) {
    onPath.set(node, path.length);
    path.push(node);
    node = (successors[node] ?? []).find((next) => !done.has(next)) ?? start;
  }
  const cycle = path.slice(onPath.get(node));
  return [...cycle, node];
}
