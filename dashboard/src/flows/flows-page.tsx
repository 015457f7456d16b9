import type { Flow } from '../api/types.ts';
import { useSession } from '../context.ts';
import type { AtomLook } from '../graph/atom-states.ts';
import { FlowGraphView } from '../graph/flow-graph.tsx';
import { href } from '../routes.ts';
import { ReadOnlyNote } from '../ui/widgets.tsx';
import { StartRunForm } from './start-run-form.tsx';

const NO_LOOKS: ReadonlyMap<string, AtomLook> = new Map();

/** The served flows: each one's inputs, outputs and graph, and a form to start a run of it. */
export function FlowsPage({ selected }: { readonly selected: string | undefined }) {
  const { flows } = useSession();
  if (flows === undefined) return <p class="muted">Loading the served flows…</p>;
  const flow = flows.find((f) => f.name === selected) ?? flows[0];
  if (flow === undefined) return <p class="empty">This service serves no flows.</p>;
  return (
    <section aria-labelledby="flows-title" class="flows">
      <h1 id="flows-title">Flows</h1>
      <div class="flows-body">
        <nav aria-label="Served flows" class="flow-list">
          <ul>
            {flows.map((f) => (
              <li key={f.name}>
                <a
                  href={href({ page: 'flows', name: f.name })}
                  aria-current={f === flow ? 'page' : undefined}
                >
                  {f.name} <span class="muted">v{f.version}</span>
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <FlowDetail key={flow.name} flow={flow} />
      </div>
    </section>
  );
}

function FlowDetail({ flow }: { readonly flow: Flow }) {
  const { layouter, readOnly } = useSession();
  return (
    <article class="flow-detail" aria-labelledby="flow-title">
      <h2 id="flow-title">
        {flow.name} <span class="muted">v{flow.version}</span>
      </h2>
      <dl class="facts">
        <dt>Requires</dt>
        <dd>{flow.requires.length === 0 ? 'nothing' : flow.requires.join(', ')}</dd>
        <dt>Provides</dt>
        <dd>{flow.provides.length === 0 ? 'nothing' : flow.provides.join(', ')}</dd>
        {flow.resumes.length === 0 ? null : (
          <>
            <dt>Continues runs of</dt>
            <dd>versions {flow.resumes.join(', ')}</dd>
          </>
        )}
      </dl>
      <FlowGraphView graph={flow.graph} looks={NO_LOOKS} layouter={layouter} />
      {readOnly ? <ReadOnlyNote /> : <StartRunForm flow={flow} />}
    </article>
  );
}
