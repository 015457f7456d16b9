import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { FlowGraph, GraphNode, GraphNodeKind } from '../api/types.ts';

/** A node placed by the layout, in the coordinates of the whole drawing. */
export interface PlacedNode {
  readonly id: string;
  readonly name: string;
  readonly kind: GraphNodeKind;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Flows drawn as a box around their children. */
  readonly group: boolean;
  /** A flow drawn as one box, its atoms hidden: the names of those atoms. */
  readonly hidden: readonly string[] | undefined;
}

export interface PlacedEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  readonly label: string | null;
  /** Where ELK put the label's top left corner (undefined when labels are left out). */
  readonly labelAt: { readonly x: number; readonly y: number } | undefined;
  readonly decider: boolean;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  /** Groups first (outer before inner), so atoms are drawn on top of them. */
  readonly nodes: readonly PlacedNode[];
  readonly edges: readonly PlacedEdge[];
}

/** Lays out an ELK graph; the ELK engine runs in a worker, started on first use. */
export type ElkLayouter = (graph: ElkNode) => Promise<ElkNode>;

/** Past this many atoms, nested flows start collapsed (biggest first) so the page stays usable. */
export const COLLAPSE_ABOVE_ATOMS = 300;

/** Up to this many edges, their labels (symbols, deciders) are laid out and drawn. */
export const LABELLED_EDGES = 300;

const ATOM_HEIGHT = 36;
const COLLAPSED_HEIGHT = 48;
const CHAR_WIDTH = 7.5;

const isFlow = (kind: GraphNodeKind): boolean =>
  kind === 'linear' || kind === 'unordered' || kind === 'graph';

/** The atoms inside each flow node, at any depth. */
export function atomsByFlow(graph: FlowGraph): Map<string, string[]> {
  const parents = new Map(graph.nodes.map((n) => [n.id, n.parent]));
  const atoms = new Map<string, string[]>();
  for (const node of graph.nodes) {
    if (isFlow(node.kind)) continue;
    for (let p = node.parent; p !== null && p !== undefined; p = parents.get(p) ?? null) {
      const list = atoms.get(p) ?? [];
      list.push(node.name);
      atoms.set(p, list);
    }
  }
  return atoms;
}

/**
 * The flows to collapse at first: none for a small flow; for a big one, the nested flows with
 * the most atoms, until what remains drawn is below {@link COLLAPSE_ABOVE_ATOMS}.
 */
export function initialCollapse(graph: FlowGraph): Set<string> {
  const inside = atomsByFlow(graph);
  const root = graph.nodes.find((n) => n.parent === null);
  let drawn = graph.nodes.filter((n) => !isFlow(n.kind)).length;
  const collapsed = new Set<string>();
  if (drawn <= COLLAPSE_ABOVE_ATOMS) return collapsed;
  const depth = depthOf(graph);
  // Outermost first: a collapsed flow hides its inner flows too.
  const candidates = graph.nodes
    .filter((n) => isFlow(n.kind) && n.id !== root?.id)
    .sort(
      (a, b) =>
        (depth.get(a.id) ?? 0) - (depth.get(b.id) ?? 0) ||
        (inside.get(b.id)?.length ?? 0) - (inside.get(a.id)?.length ?? 0),
    );
  for (const flow of candidates) {
    if (drawn <= COLLAPSE_ABOVE_ATOMS) break;
    if (hiddenBy(flow, graph, collapsed)) continue;
    collapsed.add(flow.id);
    drawn -= (inside.get(flow.id)?.length ?? 0) - 1;
  }
  return collapsed;
}

function depthOf(graph: FlowGraph): Map<string, number> {
  const parents = new Map(graph.nodes.map((n) => [n.id, n.parent]));
  const depth = new Map<string, number>();
  for (const node of graph.nodes) {
    let d = 0;
    for (let p = node.parent; p !== null && p !== undefined; p = parents.get(p) ?? null) d++;
    depth.set(node.id, d);
  }
  return depth;
}

function hiddenBy(node: GraphNode, graph: FlowGraph, collapsed: ReadonlySet<string>): boolean {
  const parents = new Map(graph.nodes.map((n) => [n.id, n.parent]));
  for (let p = node.parent; p !== null && p !== undefined; p = parents.get(p) ?? null) {
    if (collapsed.has(p)) return true;
  }
  return false;
}

/**
 * Lays out a flow's graph with ELK's layered algorithm: nested flows as groups (or as one box
 * when collapsed), atoms sized to their names, edges routed around groups. The top flow is
 * not drawn as a group; the page names it.
 */
export async function layoutFlow(
  graph: FlowGraph,
  collapsed: ReadonlySet<string>,
  layouter: ElkLayouter,
): Promise<Layout> {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const root = graph.nodes.find((n) => n.parent === null);
  const inside = atomsByFlow(graph);
  const visible = (id: string): string | undefined => {
    let shown: string | undefined = id;
    for (let p = byId.get(id)?.parent ?? null; p !== null; p = byId.get(p)?.parent ?? null) {
      if (collapsed.has(p)) shown = p;
    }
    return shown === root?.id ? undefined : shown;
  };
  const elkNodes = new Map<string, ElkNode>();
  const top: ElkNode[] = [];
  for (const node of graph.nodes) {
    if (node.id === root?.id || visible(node.id) !== node.id) continue;
    const folded = collapsed.has(node.id);
    const elkNode: ElkNode =
      isFlow(node.kind) && !folded
        ? {
            id: node.id,
            children: [],
            layoutOptions: { 'elk.padding': '[top=30,left=14,bottom=14,right=14]' },
          }
        : {
            id: node.id,
            width: Math.max(96, (node.name.length + (folded ? 8 : 2)) * CHAR_WIDTH + 28),
            height: folded ? COLLAPSED_HEIGHT : ATOM_HEIGHT,
          };
    elkNodes.set(node.id, elkNode);
  }
  for (const node of graph.nodes) {
    const elkNode = elkNodes.get(node.id);
    if (elkNode === undefined) continue;
    const parent = node.parent === null ? undefined : elkNodes.get(node.parent);
    if (parent === undefined) top.push(elkNode);
    else parent.children?.push(elkNode);
  }
  const edges: ElkExtendedEdge[] = [];
  const meta = new Map<string, { label: string | null; decider: boolean }>();
  const seen = new Set<string>();
  for (const edge of graph.edges) {
    const from = visible(edge.from);
    const to = visible(edge.to);
    if (from === undefined || to === undefined || from === to || seen.has(`${from}>${to}`))
      continue;
    seen.add(`${from}>${to}`);
    const id = `e${edges.length}`;
    const labelled = edge.label !== null && graph.edges.length <= LABELLED_EDGES;
    edges.push({
      id,
      sources: [from],
      targets: [to],
      ...(labelled
        ? {
            labels: [
              {
                id: `${id}l`,
                text: edge.label ?? '',
                width: (edge.label?.length ?? 0) * 6.2 + 6,
                height: 14,
              },
            ],
          }
        : {}),
    });
    meta.set(id, { label: edge.label, decider: edge.decider });
  }
  const laidOut = await layouter({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      // Faster than the default (network simplex) on big flows, and as tidy on these graphs.
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.json.shapeCoords': 'ROOT',
      'elk.json.edgeCoords': 'ROOT',
      'elk.spacing.nodeNode': '18',
      'elk.layered.spacing.nodeNodeBetweenLayers': '36',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
      'elk.edgeLabels.placement': 'CENTER',
    },
    children: top,
    edges,
  });
  const nodes: PlacedNode[] = [];
  const collect = (list: readonly ElkNode[] | undefined): void => {
    for (const placed of list ?? []) {
      const node = byId.get(placed.id);
      if (node === undefined) continue;
      const group = placed.children !== undefined;
      nodes.push({
        id: node.id,
        name: node.name,
        kind: node.kind,
        x: placed.x ?? 0,
        y: placed.y ?? 0,
        width: placed.width ?? 0,
        height: placed.height ?? 0,
        group,
        hidden: collapsed.has(node.id) ? (inside.get(node.id) ?? []) : undefined,
      });
    }
    for (const placed of list ?? []) collect(placed.children);
  };
  collect(laidOut.children);
  return {
    width: laidOut.width ?? 0,
    height: laidOut.height ?? 0,
    nodes,
    edges: (laidOut.edges ?? []).map((edge) => {
      const section = (edge as ElkExtendedEdge).sections?.[0];
      const points =
        section === undefined
          ? []
          : [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      const info = meta.get(edge.id) ?? { label: null, decider: false };
      const ends = edge as ElkExtendedEdge;
      const label = ends.labels?.[0];
      return {
        id: edge.id,
        from: ends.sources[0] ?? '',
        to: ends.targets[0] ?? '',
        points,
        label: info.label,
        labelAt:
          label?.x === undefined || label.y === undefined ? undefined : { x: label.x, y: label.y },
        decider: info.decider,
      };
    }),
  };
}
