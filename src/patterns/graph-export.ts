import type { Atom } from '../core/atom.ts';
import { Flow, type FlowChild, providedBy, requiredBy } from './flow.ts';
import { GraphFlow } from './graph-flow.ts';

/** Options shared by {@link toDot} and {@link toMermaid}. */
export interface GraphExportOptions {
  /** Layout direction: top to bottom (default), left to right, and the reverses. */
  readonly direction?: 'TB' | 'LR' | 'BT' | 'RL';
}

/**
 * The structure of a flow, independent of the output format. Ids are assigned in definition
 * order (a flow's retry before its children), so the same flow always exports the same text.
 */
interface Cluster {
  readonly id: string;
  readonly flow: Flow;
  /** Atoms and clusters, in definition order (the retry first). */
  readonly members: readonly (AtomNode | Cluster)[];
  /** An atom inside the cluster that compound DOT edges can attach to; undefined when it holds none. */
  readonly anchor: string | undefined;
  /** Edges between the members of this cluster. */
  readonly edges: readonly Edge[];
}

interface AtomNode {
  readonly id: string;
  readonly atom: Atom;
}

interface Edge {
  readonly from: string;
  readonly to: string;
  /** Symbols behind an inferred graph edge, or the decider's depth. */
  readonly label: string | undefined;
  readonly decider: boolean;
}

interface Structure {
  readonly root: Cluster;
  readonly edges: readonly Edge[];
  readonly clusters: ReadonlyMap<string, Cluster>;
}

function build(flow: Flow): Structure {
  let atoms = 0;
  let flows = 0;
  const clusters = new Map<string, Cluster>();

  const visit = (current: Flow): Cluster => {
    const id = `f${flows++}`;
    const members: (AtomNode | Cluster)[] = [];
    const retry = current.retry ? { id: `a${atoms++}`, atom: current.retry } : undefined;
    if (retry) members.push(retry);
    const children = current.children.map((child: FlowChild) =>
      child instanceof Flow ? visit(child) : { id: `a${atoms++}`, atom: child },
    );
    members.push(...children);
    const edges: Edge[] = [];
    const hasIncoming = new Set<number>();
    for (const edge of childEdges(current)) {
      const from = children[edge.from];
      const to = children[edge.to];
      if (!from || !to) continue;
      hasIncoming.add(edge.to);
      edges.push({ from: from.id, to: to.id, label: edge.label, decider: edge.decider });
    }
    if (retry) {
      // The retry runs before every child that has nothing else to wait for.
      children.forEach((child, index) => {
        if (!hasIncoming.has(index))
          edges.push({ from: retry.id, to: child.id, label: undefined, decider: false });
      });
    }
    const anchor = members.map((m) => ('atom' in m ? m.id : m.anchor)).find((a) => a !== undefined);
    const cluster: Cluster = { id, flow: current, members, anchor, edges };
    clusters.set(id, cluster);
    return cluster;
  };

  const root = visit(flow);
  // Outer flows first, so the text reads from the top of the tree down.
  const edges: Edge[] = [];
  const collect = (cluster: Cluster): void => {
    edges.push(...cluster.edges);
    for (const member of cluster.members) if (!('atom' in member)) collect(member);
  };
  collect(root);
  return { root, edges, clusters };
}

/** Edges between the children of one flow, by child index. */
function childEdges(
  flow: Flow,
): { from: number; to: number; label: string | undefined; decider: boolean }[] {
  switch (flow.kind) {
    case 'linear':
      return flow.children
        .slice(1)
        .map((_, i) => ({ from: i, to: i + 1, label: undefined, decider: false }));
    case 'unordered':
      return [];
    case 'graph': {
      if (!(flow instanceof GraphFlow)) return [];
      return flow.edges.map((edge) => {
        const from = flow.children[edge.from] as FlowChild;
        const to = flow.children[edge.to] as FlowChild;
        const needed = new Set(requiredBy(to));
        const symbols = providedBy(from).filter((symbol) => needed.has(symbol));
        const parts = symbols.length > 0 ? [symbols.join(', ')] : [];
        if (edge.decider) parts.push(`decider: ${edge.depth}`);
        return {
          from: edge.from,
          to: edge.to,
          label: parts.length > 0 ? parts.join('; ') : undefined,
          decider: edge.decider !== undefined,
        };
      });
    }
  }
}

const flowLabel = (flow: Flow): string => `${flow.kind}: ${flow.name}`;

/** A DOT double-quoted string: backslashes and quotes escaped, line breaks as `\n`. */
function dotString(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, '\\n');
  return `"${escaped}"`;
}

/**
 * Exports a flow's structure as Graphviz DOT. Nested flows become clusters labelled
 * `kind: name`; atoms become nodes labelled with their name and kind (retries are hexagons inside
 * the flow they control, with an edge to each child they run before). Edges follow linear order
 * and graph edges; inferred graph edges are labelled with their symbols, and links with a
 * decider are dashed and labelled with the decider's depth. Edges into or out of a nested flow
 * attach to its cluster (`compound=true`).
 *
 * @example
 * const flow = linearFlow('deploy', [createVolume, unorderedFlow('boot', [bootA, bootB])]);
 * writeFileSync('deploy.dot', toDot(flow)); // then: dot -Tsvg deploy.dot > deploy.svg
 */
export function toDot(flow: Flow, options: GraphExportOptions = {}): string {
  const { root, edges, clusters } = build(flow);
  const lines = [
    `digraph ${dotString(flow.name)} {`,
    '  compound=true;',
    `  rankdir=${options.direction ?? 'TB'};`,
  ];
  lines.push('  node [shape=box];');
  const emit = (cluster: Cluster, indent: string): void => {
    lines.push(`${indent}subgraph ${dotString(`cluster_${cluster.id}`)} {`);
    lines.push(`${indent}  label=${dotString(flowLabel(cluster.flow))};`);
    if (cluster.members.length === 0) {
      // Graphviz draws no empty cluster; an invisible point keeps it visible and linkable.
      lines.push(`${indent}  ${dotString(cluster.id)} [shape=point, style=invis, label=""];`);
    }
    for (const member of cluster.members) {
      if ('atom' in member) {
        const shape = member.atom.kind === 'retry' ? ', shape=hexagon' : '';
        lines.push(
          `${indent}  ${dotString(member.id)} [label=${dotString(`${member.atom.name}\n(${member.atom.kind})`)}${shape}];`,
        );
      } else {
        emit(member, `${indent}  `);
      }
    }
    lines.push(`${indent}}`);
  };
  emit(root, '  ');
  for (const edge of edges) {
    const attributes: string[] = [];
    const end = (id: string, side: 'ltail' | 'lhead'): string => {
      const cluster = clusters.get(id);
      if (!cluster) return id;
      attributes.push(`${side}=${dotString(`cluster_${id}`)}`);
      return cluster.anchor ?? id;
    };
    const from = end(edge.from, 'ltail');
    const to = end(edge.to, 'lhead');
    if (edge.label !== undefined) attributes.push(`label=${dotString(edge.label)}`);
    if (edge.decider) attributes.push('style=dashed');
    const suffix = attributes.length > 0 ? ` [${attributes.join(', ')}]` : '';
    lines.push(`  ${dotString(from)} -> ${dotString(to)}${suffix};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * Mermaid text inside double quotes: quotes and characters Mermaid or HTML would interpret are
 * written as Mermaid entity codes; line breaks become spaces.
 */
function mermaidString(text: string): string {
  const codes: Record<string, string> = {
    '"': 'quot',
    '#': '35',
    '<': 'lt',
    '>': 'gt',
    '&': 'amp',
    '`': '96',
    '|': '124',
  };
  const escaped = text.replace(/\r\n|\r|\n/g, ' ').replace(/["#<>&`|]/g, (c) => `#${codes[c]};`);
  return `"${escaped}"`;
}

/**
 * Exports a flow's structure as a Mermaid flowchart, with the same content as {@link toDot}:
 * nested flows as subgraphs titled `kind: name`, atoms as nodes (retries as hexagons), edges for
 * linear order and graph edges, decider links dotted and labelled with their depth.
 *
 * @example
 * const flow = graphFlow('build', [compile, test]).link('compile', 'test', { decider: ok, depth: 'ATOM' });
 * console.log('```mermaid\n' + toMermaid(flow, { direction: 'LR' }) + '```');
 */
export function toMermaid(flow: Flow, options: GraphExportOptions = {}): string {
  const { root, edges } = build(flow);
  const lines = [`flowchart ${options.direction ?? 'TB'}`];
  const emit = (cluster: Cluster, indent: string): void => {
    lines.push(`${indent}subgraph ${cluster.id} [${mermaidString(flowLabel(cluster.flow))}]`);
    for (const member of cluster.members) {
      if ('atom' in member) {
        const label = mermaidString(`${member.atom.name} (${member.atom.kind})`);
        lines.push(
          `${indent}  ${member.id}${member.atom.kind === 'retry' ? `{{${label}}}` : `[${label}]`}`,
        );
      } else {
        emit(member, `${indent}  `);
      }
    }
    lines.push(`${indent}end`);
  };
  emit(root, '  ');
  for (const edge of edges) {
    const arrow = edge.decider ? '-.->' : '-->';
    const label = edge.label === undefined ? '' : `|${mermaidString(edge.label)}|`;
    lines.push(`  ${edge.from} ${arrow}${label} ${edge.to}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One node of {@link toGraph}: an atom, or a nested flow that groups atoms. */
export interface FlowGraphNode {
  /** Stable within one export: `f0`, `f1`, ... for flows, `a0`, `a1`, ... for atoms. */
  readonly id: string;
  readonly name: string;
  readonly kind: 'task' | 'retry' | 'linear' | 'unordered' | 'graph';
  /** The id of the flow that holds this node; null for the root flow. */
  readonly parent: string | null;
}

/** One edge of {@link toGraph}, between atoms or flows of the same enclosing flow. */
export interface FlowGraphEdge {
  readonly from: string;
  readonly to: string;
  /** Symbols behind an inferred graph edge and/or the decider's depth; null when none. */
  readonly label: string | null;
  readonly decider: boolean;
}

/**
 * A flow's structure as plain data, with the same content as {@link toDot}: every flow and
 * atom as a node (flows first in definition order, each atom under the flow holding it), and
 * the edges of linear order, graph links and retries. For programs and dashboards.
 *
 * @example
 * const { nodes, edges } = toGraph(graphFlow('build', [compile, test]));
 * // nodes: [{ id: 'f0', name: 'build', kind: 'graph', parent: null }, { id: 'a0', ... }]
 */
export function toGraph(flow: Flow): {
  readonly nodes: readonly FlowGraphNode[];
  readonly edges: readonly FlowGraphEdge[];
} {
  const { root, edges } = build(flow);
  const nodes: FlowGraphNode[] = [];
  const visit = (cluster: Cluster, parent: string | null): void => {
    nodes.push({ id: cluster.id, name: cluster.flow.name, kind: cluster.flow.kind, parent });
    for (const member of cluster.members) {
      if ('atom' in member) {
        nodes.push({
          id: member.id,
          name: member.atom.name,
          kind: member.atom.kind,
          parent: cluster.id,
        });
      } else {
        visit(member, cluster.id);
      }
    }
  };
  visit(root, null);
  return {
    nodes,
    edges: edges.map((edge) => ({
      from: edge.from,
      to: edge.to,
      label: edge.label ?? null,
      decider: edge.decider,
    })),
  };
}
