import { useState } from 'preact/hooks';
import { ApiError, errorText } from '../api/client.ts';
import type { Flow } from '../api/types.ts';
import { useSession } from '../context.ts';
import type { AtomLook } from '../graph/atom-states.ts';
import { FlowGraphView } from '../graph/flow-graph.tsx';
import { navigate } from '../router.ts';
import { href } from '../routes.ts';
import { ErrorNote } from '../ui/widgets.tsx';
import { checkInputs } from './run-inputs.ts';

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
  const { layouter } = useSession();
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
      <StartRunForm flow={flow} />
    </article>
  );
}

function StartRunForm({ flow }: { readonly flow: Flow }) {
  const { api } = useSession();
  const [values, setValues] = useState<Record<string, string>>({});
  const [extra, setExtra] = useState('');
  const [key, setKey] = useState('');
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const fieldId = (name: string): string => `input-${flow.name}-${name}`;

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setFailure(undefined);
    const checked = checkInputs(flow.requires, { values, extra });
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const created = await api.post<{ id: string }>(
        '/v1/runs',
        { flow: flow.name, version: flow.version, inputs: checked.inputs },
        key.trim() === '' ? {} : { 'Idempotency-Key': key.trim() },
      );
      navigate({ page: 'run', id: created.id, atom: undefined });
    } catch (caught) {
      setBusy(false);
      const fields: Record<string, string> = {};
      if (caught instanceof ApiError) {
        for (const e of caught.problem?.errors ?? []) {
          const name = e.path.replace(/^(body\.)?inputs\./, '');
          fields[flow.requires.includes(name) ? name : 'extra'] = e.message;
        }
      }
      setErrors(fields);
      setFailure(errorText(caught));
    }
  };

  return (
    <form class="start-run" onSubmit={submit} aria-labelledby="start-title" noValidate>
      <h3 id="start-title">Start a run</h3>
      {flow.requires.map((name) => (
        <div class="field" key={name}>
          <label for={fieldId(name)}>{name}</label>
          <input
            id={fieldId(name)}
            name={name}
            value={values[name] ?? ''}
            aria-invalid={errors[name] === undefined ? undefined : 'true'}
            aria-describedby={errors[name] === undefined ? undefined : `${fieldId(name)}-error`}
            onInput={(e) => setValues({ ...values, [name]: (e.target as HTMLInputElement).value })}
          />
          {errors[name] === undefined ? null : (
            <span class="field-error" id={`${fieldId(name)}-error`}>
              {errors[name]}
            </span>
          )}
        </div>
      ))}
      <p class="muted">
        Each value is read as JSON (10, true, {'{"a": 1}'}); other text is sent as a string.
      </p>
      <div class="field">
        <label for={fieldId('extra')}>Other inputs (JSON object, optional)</label>
        <textarea
          id={fieldId('extra')}
          name="extra"
          rows={2}
          value={extra}
          placeholder='{"failBoot": true}'
          aria-invalid={errors.extra === undefined ? undefined : 'true'}
          onInput={(e) => setExtra((e.target as HTMLTextAreaElement).value)}
        />
        {errors.extra === undefined ? null : <span class="field-error">{errors.extra}</span>}
      </div>
      <div class="field">
        <label for={fieldId('key')}>Idempotency key (optional)</label>
        <input
          id={fieldId('key')}
          name="idempotency-key"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
      </div>
      {failure === undefined ? null : <ErrorNote>{failure}</ErrorNote>}
      <button type="submit" class="primary" disabled={busy}>
        Start run
      </button>
    </form>
  );
}
