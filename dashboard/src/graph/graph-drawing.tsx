import { type AtomLook, summaryState } from './atom-states.ts';
import type { Layout, PlacedNode } from './layout.ts';

const PENDING: AtomLook = { state: 'PENDING', progress: 0 };

/**
 * The SVG of a laid-out flow: groups, then links, then atoms on top; an atom's class names its
 * state (the stylesheet colours it), a collapsed flow shows the most urgent state inside it.
 */
export function Drawing({
  layout,
  looks,
  selected,
  onSelect,
  onToggle,
}: {
  readonly layout: Layout;
  readonly looks: ReadonlyMap<string, AtomLook>;
  readonly selected: string | undefined;
  readonly onSelect: (atom: string) => void;
  readonly onToggle: (flow: string) => void;
}) {
  const stateOf = new Map<string, string>();
  for (const node of layout.nodes) {
    if (node.hidden !== undefined) {
      stateOf.set(
        node.id,
        summaryState(node.hidden.map((name) => (looks.get(name) ?? PENDING).state)),
      );
    } else if (!node.group) {
      stateOf.set(node.id, (looks.get(node.name) ?? PENDING).state);
    }
  }
  return (
    <>
      {layout.nodes
        .filter((node) => node.group)
        .map((node) => (
          <g
            key={node.id}
            class={`group kind-${node.kind}`}
            transform={`translate(${node.x} ${node.y})`}
          >
            <rect class="group-box" width={node.width} height={node.height} rx={8} />
            <text x={10} y={19}>
              {node.kind}: {node.name}
            </text>
          </g>
        ))}
      {layout.edges.map((edge) => {
        const to = stateOf.get(edge.to);
        const from = stateOf.get(edge.from);
        const kind =
          to === 'IGNORE'
            ? ' ignored'
            : from === 'REVERTED' && to === 'REVERTED'
              ? ' reverted'
              : '';
        return (
          <g key={edge.id} class={`edge${edge.decider ? ' decider' : ''}${kind}`}>
            <path
              d={edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x} ${p.y}`).join(' ')}
              marker-end="url(#arrow)"
            />
            {edge.labelAt === undefined ? null : (
              <text x={edge.labelAt.x} y={edge.labelAt.y + 11} class="edge-label">
                {edge.label}
              </text>
            )}
          </g>
        );
      })}
      {layout.nodes
        .filter((node) => !node.group)
        .map((node) => (
          <NodeBox
            key={node.id}
            node={node}
            state={stateOf.get(node.id) ?? 'PENDING'}
            progress={(looks.get(node.name) ?? PENDING).progress}
            selected={node.hidden === undefined && node.name === selected}
            done={node.hidden?.filter((name) => isDone(looks.get(name)?.state)).length ?? 0}
            onActivate={() => (node.hidden === undefined ? onSelect(node.name) : onToggle(node.id))}
          />
        ))}
    </>
  );
}

const isDone = (state: string | undefined): boolean => state === 'SUCCESS' || state === 'IGNORE';

function NodeBox({
  node,
  state,
  progress,
  selected,
  done,
  onActivate,
}: {
  readonly node: PlacedNode;
  readonly state: string;
  readonly progress: number;
  readonly selected: boolean;
  readonly done: number;
  readonly onActivate: () => void;
}) {
  const folded = node.hidden !== undefined;
  const label = folded
    ? `${node.kind} flow ${node.name}: ${node.hidden?.length} atoms, ${done} done; open it`
    : `${node.kind} ${node.name}: ${state}`;
  return (
    // biome-ignore lint/a11y/useSemanticElements: SVG has no button element; the group acts as one
    <g
      class={`node kind-${node.kind} state-${state}${folded ? ' collapsed' : ''}${selected ? ' selected' : ''}`}
      transform={`translate(${node.x} ${node.y})`}
      data-atom={folded ? undefined : node.name}
      data-flow={folded ? node.name : undefined}
      data-state={state}
      tabindex={0}
      role="button"
      aria-label={label}
      aria-pressed={folded ? undefined : selected}
      onClick={onActivate}
      onKeyDown={(event) => {
        if (event.key !== 'Enter' && event.key !== ' ') return;
        event.preventDefault();
        onActivate();
      }}
    >
      <rect
        class="node-box"
        width={node.width}
        height={node.height}
        rx={node.kind === 'retry' ? 14 : 6}
      />
      <text x={12} y={folded ? 20 : 23}>
        {folded ? `▸ ${node.name}` : node.name}
      </text>
      {folded ? (
        <text x={12} y={38} class="sub">
          {node.hidden?.length} atoms · {done} done
        </text>
      ) : null}
      {state === 'RUNNING' && progress > 0 ? (
        <rect class="progress" y={node.height - 4} width={node.width * progress} height={4} />
      ) : null}
      <title>{label}</title>
    </g>
  );
}
