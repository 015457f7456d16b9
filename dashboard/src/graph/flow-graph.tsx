// biome-ignore-all lint/a11y/noNoninteractiveTabindex: the graph canvas takes focus so that arrow keys pan it and + and - zoom it
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FlowGraph } from '../api/types.ts';
import { ErrorNote } from '../ui/widgets.tsx';
import type { AtomLook } from './atom-states.ts';
import { Drawing } from './graph-drawing.tsx';
import { type ElkLayouter, initialCollapse, type Layout, layoutFlow } from './layout.ts';

interface View {
  readonly x: number;
  readonly y: number;
  readonly scale: number;
}

/**
 * A flow's graph, laid out by ELK: nested flows as groups, atoms coloured by state (kept
 * current by the caller), deciders' links dashed. Drag to pan, wheel or +/- to zoom, 0 to fit.
 * A big flow starts with its biggest nested flows collapsed; click one to open it.
 */
export function FlowGraphView({
  graph,
  looks,
  selected,
  onSelect,
  layouter,
}: {
  readonly graph: FlowGraph;
  readonly looks: ReadonlyMap<string, AtomLook>;
  readonly selected?: string | undefined;
  readonly onSelect?: (atom: string) => void;
  readonly layouter: ElkLayouter;
}) {
  const [collapsed, setCollapsed] = useState(() => initialCollapse(graph));
  const [layout, setLayout] = useState<Layout | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [timing, setTiming] = useState<{ layoutMs: number; drawnMs: number } | undefined>();
  const [view, setView] = useState<View>({ x: 0, y: 0, scale: 1 });
  const box = useRef<HTMLDivElement>(null);
  const drag = useRef<{ x: number; y: number; moved: boolean; id: number } | undefined>(undefined);
  const started = useRef({ at: 0, layoutMs: 0 });

  useEffect(() => {
    let cancelled = false;
    const at = performance.now();
    layoutFlow(graph, collapsed, layouter)
      .then((placed) => {
        if (cancelled) return;
        started.current = { at, layoutMs: performance.now() - at };
        setLayout(placed);
        setView(fit(placed, box.current));
      })
      .catch((caught: unknown) => !cancelled && setError(String(caught)));
    return () => {
      cancelled = true;
    };
  }, [graph, collapsed, layouter]);

  useEffect(() => {
    if (layout === undefined) return;
    // Measured once the drawing is on screen: the frame after the one that rendered it.
    requestAnimationFrame(() =>
      requestAnimationFrame(() =>
        setTiming({
          layoutMs: Math.round(started.current.layoutMs),
          drawnMs: Math.round(performance.now() - started.current.at),
        }),
      ),
    );
  }, [layout]);

  const select = useRef(onSelect);
  select.current = onSelect;
  const drawing = useMemo(() => {
    if (layout === undefined) return null;
    const toggle = (id: string): void => {
      setTiming(undefined);
      setCollapsed((shown) => {
        const next = new Set(shown);
        if (!next.delete(id)) next.add(id);
        return next;
      });
    };
    return (
      <Drawing
        layout={layout}
        looks={looks}
        selected={selected}
        onSelect={(name) => !drag.current?.moved && select.current?.(name)}
        onToggle={(id) => !drag.current?.moved && toggle(id)}
      />
    );
  }, [layout, looks, selected]);

  const atomCount = graph.nodes.filter((n) => n.kind === 'task' || n.kind === 'retry').length;
  const zoom = (factor: number, cx?: number, cy?: number): void => {
    const rect = box.current?.getBoundingClientRect();
    const px = cx ?? (rect?.width ?? 0) / 2;
    const py = cy ?? (rect?.height ?? 0) / 2;
    setView((v) => {
      const scale = Math.min(4, Math.max(0.02, v.scale * factor));
      const k = scale / v.scale;
      return { scale, x: px - (px - v.x) * k, y: py - (py - v.y) * k };
    });
  };

  return (
    <div class="graph">
      <div class="graph-tools">
        <span class="muted" data-graph-ms={timing?.drawnMs} data-layout-ms={timing?.layoutMs}>
          {atomCount} atoms
          {timing === undefined
            ? ' · laying out…'
            : ` · laid out in ${timing.layoutMs} ms, on screen in ${timing.drawnMs} ms`}
        </span>
        <button type="button" onClick={() => layout && setView(fit(layout, box.current))}>
          Fit
        </button>
        <button type="button" aria-label="Zoom in" onClick={() => zoom(1.25)}>
          +
        </button>
        <button type="button" aria-label="Zoom out" onClick={() => zoom(0.8)}>
          −
        </button>
        <button
          type="button"
          disabled={collapsed.size === 0}
          onClick={() => {
            setTiming(undefined);
            setCollapsed(new Set());
          }}
        >
          Expand all
        </button>
      </div>
      {error === undefined ? null : <ErrorNote>The graph could not be laid out: {error}</ErrorNote>}
      <div
        ref={box}
        class="graph-canvas"
        tabIndex={0}
        role="application"
        aria-label="Flow graph: drag or arrow keys to pan, + and - to zoom, 0 to fit"
        onWheel={(event) => {
          event.preventDefault();
          const rect = box.current?.getBoundingClientRect();
          zoom(
            event.deltaY < 0 ? 1.15 : 1 / 1.15,
            event.clientX - (rect?.left ?? 0),
            event.clientY - (rect?.top ?? 0),
          );
        }}
        onPointerDown={(event) => {
          drag.current = { x: event.clientX, y: event.clientY, moved: false, id: event.pointerId };
        }}
        onPointerMove={(event) => {
          const d = drag.current;
          if (d === undefined || (event.buttons & 1) === 0) return;
          const dx = event.clientX - d.x;
          const dy = event.clientY - d.y;
          if (!d.moved && Math.hypot(dx, dy) < 4) return;
          if (!d.moved) box.current?.setPointerCapture(d.id);
          drag.current = { ...d, x: event.clientX, y: event.clientY, moved: true };
          setView((v) => ({ ...v, x: v.x + dx, y: v.y + dy }));
        }}
        onPointerUp={() => {
          // Cleared after the click that may follow, so a drag's end selects nothing.
          setTimeout(() => {
            drag.current = undefined;
          });
        }}
        onKeyDown={(event) => {
          if (event.target !== box.current) return;
          const step = 60;
          const moves: Record<string, () => void> = {
            '+': () => zoom(1.25),
            '=': () => zoom(1.25),
            '-': () => zoom(0.8),
            '0': () => layout && setView(fit(layout, box.current)),
            ArrowLeft: () => setView((v) => ({ ...v, x: v.x + step })),
            ArrowRight: () => setView((v) => ({ ...v, x: v.x - step })),
            ArrowUp: () => setView((v) => ({ ...v, y: v.y + step })),
            ArrowDown: () => setView((v) => ({ ...v, y: v.y - step })),
          };
          const move = moves[event.key];
          if (move === undefined) return;
          event.preventDefault();
          move();
        }}
      >
        {/* Moved by a CSS transform of the whole drawing, so panning and zooming only recomposite it. */}
        <svg
          class="graph-svg"
          role="presentation"
          width={layout?.width ?? 0}
          height={layout?.height ?? 0}
          style={{ transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` }}
        >
          <defs>
            <marker
              id="arrow"
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="7"
              markerHeight="7"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
            </marker>
          </defs>
          {drawing}
        </svg>
      </div>
    </div>
  );
}

function fit(layout: Layout, box: HTMLElement | null): View {
  const width = box?.clientWidth ?? 800;
  const height = box?.clientHeight ?? 400;
  const scale = Math.min(
    1.5,
    width / Math.max(1, layout.width),
    height / Math.max(1, layout.height),
  );
  return {
    scale,
    x: (width - layout.width * scale) / 2,
    y: (height - layout.height * scale) / 2,
  };
}
