import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, errorText } from '../api/client.ts';
import { followEvents } from '../api/event-stream.ts';
import type { OperatorAction, Run, RunChange } from '../api/types.ts';
import { useSession } from '../context.ts';
import type { AtomLook } from '../graph/atom-states.ts';
import { FlowGraphView } from '../graph/flow-graph.tsx';
import { navigate } from '../router.ts';
import { href } from '../routes.ts';
import { formatDuration, formatTime, TERMINAL_RUN_STATES } from '../ui/format.ts';
import {
  type Confirmation,
  ConfirmDialog,
  ErrorNote,
  JsonBlock,
  StateBadge,
  useNow,
} from '../ui/widgets.tsx';
import { AtomPanel } from './atom-panel.tsx';
import { attemptsOf } from './attempts.ts';
import { EventLog } from './event-log.tsx';
import { type ActionChoice, atomActionsOf, postAction, runActionsOf } from './operator-actions.ts';
import { Timeline } from './timeline.tsx';

/** The pause before reloading a run whose events kept coming during the last load. */
const RELOAD_PAUSE_MS = 250;

const TABS = ['graph', 'timeline', 'events', 'details'] as const;
type Tab = (typeof TABS)[number];

/**
 * One run, live: its graph coloured by state, the timeline of its attempts, its event log, its
 * inputs, job and operator actions, and the panel of the atom chosen.
 */
export function RunPage({ id, atom }: { readonly id: string; readonly atom: string | undefined }) {
  const { api, flows, layouter } = useSession();
  const [run, setRun] = useState<Run | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [events, setEvents] = useState<readonly RunChange[]>([]);
  const [tab, setTab] = useState<Tab>('graph');
  const [confirmation, setConfirmation] = useState<Confirmation | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const now = useNow();
  const reload = useRef<() => void>(() => undefined);

  useEffect(() => {
    const controller = new AbortController();
    let loading = false;
    let again = false;
    // One load at a time; events that arrive meanwhile ask for one more, not one each, a moment
    // later, so that a busy run of thousands of atoms is not reloaded without pause.
    const load = (): void => {
      if (loading) {
        again = true;
        return;
      }
      loading = true;
      api
        .get<Run>(`/v1/runs/${encodeURIComponent(id)}`, controller.signal)
        .then((loaded) => {
          setRun(loaded);
          setError(undefined);
        })
        .catch((caught: unknown) => {
          if (controller.signal.aborted) return;
          setError(
            caught instanceof ApiError && caught.status === 404
              ? `No run has id "${id}".`
              : errorText(caught),
          );
        })
        .finally(() => {
          loading = false;
          if (again && !controller.signal.aborted) {
            again = false;
            setTimeout(load, RELOAD_PAUSE_MS);
          }
        });
    };
    reload.current = load;
    setRun(undefined);
    setEvents([]);
    load();
    void followEvents(api, {
      path: `/v1/runs/${encodeURIComponent(id)}/events`,
      onEvents: (batch) => {
        setEvents((seen) => [...seen, ...batch]);
        load();
      },
      signal: controller.signal,
    });
    return () => controller.abort();
  }, [api, id]);

  const looks = useMemo(() => {
    const map = new Map<string, AtomLook & { at: number }>();
    for (const a of run?.atoms ?? [])
      map.set(a.name, { state: a.state, progress: a.progress, at: a.updatedAt });
    for (const event of events) {
      if (event.atom === null) continue;
      const known = map.get(event.atom);
      if (known !== undefined && known.at > event.at) continue;
      map.set(event.atom, {
        state: event.state,
        progress: event.progress ?? known?.progress ?? 0,
        at: event.at,
      });
    }
    return map as ReadonlyMap<string, AtomLook>;
  }, [run, events]);
  const attempts = useMemo(() => attemptsOf(events), [events]);
  const flow = useMemo(() => {
    if (run?.flow == null) return undefined;
    const { name, version } = run.flow;
    return flows?.find(
      (f) => f.name === name && (f.version === version || f.resumes.includes(version)),
    );
  }, [run, flows]);

  if (error !== undefined && run === undefined) return <ErrorNote>{error}</ErrorNote>;
  if (run === undefined) return <p class="muted">Loading run {id}…</p>;

  const runState =
    events.findLast((e) => e.atom === null && e.at >= run.updatedAt)?.state ?? run.state;
  const select = (name: string): void => navigate({ page: 'run', id, atom: name });
  const ask = (choice: ActionChoice, atomName: string | undefined): void => {
    const resolve = choice.action === 'resolve';
    setConfirmation({
      title: `${choice.label}${atomName === undefined ? '' : ` ${atomName}`}?`,
      message: <p>{choice.explain}</p>,
      confirm: choice.label,
      danger: choice.danger,
      fields: [
        ...(resolve
          ? [{ name: 'result', label: 'Result (JSON)', initial: 'null', multiline: true }]
          : []),
        { name: 'reason', label: 'Reason (optional, kept in the audit list)', initial: '' },
      ],
      run: async (values) => {
        const reason = values.reason?.trim() ?? '';
        const body: Record<string, unknown> = reason === '' ? {} : { reason };
        if (resolve) {
          try {
            body.result = JSON.parse(values.result ?? '');
          } catch {
            throw new Error('The result must be JSON, e.g. "done", 42 or {"id": 7}.');
          }
        }
        const done = await postAction(api, id, choice, atomName, body);
        setNotice(
          `${choice.label} requested (request ${done.id}, by ${done.by}); the engine that runs the run applies it.`,
        );
        reload.current();
      },
    });
  };
  const redriveJob = (): void =>
    setConfirmation({
      title: 'Redrive the dead-lettered job?',
      message: (
        <p>
          The job goes back on the board with its attempts reset, and a conductor runs it again.
        </p>
      ),
      confirm: 'Redrive',
      run: async () => {
        await api.post(`/v1/jobs/${encodeURIComponent(id)}/redrive`);
        setNotice('The job is back on the board.');
        reload.current();
      },
    });
  const runActions = runActionsOf(run);
  const chosen = atom === undefined ? undefined : run.atoms.find((a) => a.name === atom);
  const ended = TERMINAL_RUN_STATES.has(runState);

  return (
    <section aria-labelledby="run-title" class={atom === undefined ? 'run' : 'run with-panel'}>
      <div class="page-head">
        <h1 id="run-title">
          {run.name} <code class="run-id">{run.id}</code>
        </h1>
        <StateBadge state={runState} />
      </div>
      <p class="run-facts">
        {run.flow === null ? 'no registered flow' : `flow ${run.flow.name} v${run.flow.version}`} ·
        created {formatTime(run.createdAt, now)} ·{' '}
        {ended ? 'took' : runState === 'PENDING' ? 'waiting for' : 'going for'}{' '}
        {formatDuration((ended ? run.updatedAt : Math.max(now, run.updatedAt)) - run.createdAt)}
        {run.job === null ? null : (
          <>
            {' '}
            · job <StateBadge state={run.job.state} />{' '}
            {run.job.state === 'CLAIMED' && run.job.owner !== null
              ? `held by ${run.job.owner}`
              : ''}
            {run.job.attempts === 0 ? '' : ` after ${run.job.attempts} failed attempt(s)`}
          </>
        )}
      </p>
      <fieldset class="actions">
        <legend class="sr-only">Run actions</legend>
        {runActions.map((choice) => (
          <button
            key={choice.label}
            type="button"
            class={choice.danger ? 'danger' : ''}
            onClick={() => ask(choice, undefined)}
          >
            {choice.label}
          </button>
        ))}
        {run.job?.state === 'DEAD_LETTER' && !runActions.some((c) => c.action === 'redrive') ? (
          <button type="button" onClick={redriveJob}>
            Redrive job
          </button>
        ) : null}
      </fieldset>
      {notice === undefined ? null : (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {run.job?.deadLetterReason == null ? null : (
        <ErrorNote>Dead-lettered: {run.job.deadLetterReason}</ErrorNote>
      )}
      <div class="run-body">
        <div class="run-main">
          <div role="tablist" aria-label="Run views" class="tabs">
            {TABS.map((name) => (
              <button
                key={name}
                type="button"
                role="tab"
                id={`tab-${name}`}
                aria-selected={tab === name}
                aria-controls="run-tab"
                onClick={() => setTab(name)}
              >
                {name}
              </button>
            ))}
          </div>
          <div id="run-tab" role="tabpanel" aria-labelledby={`tab-${tab}`}>
            {tab === 'graph' ? (
              <>
                {flows === undefined ? (
                  <p class="muted">Loading the flow's graph…</p>
                ) : flow === undefined ? (
                  <p class="muted">
                    This service does not serve the run's flow, so its graph is unknown; its atoms:
                  </p>
                ) : (
                  <FlowGraphView
                    graph={flow.graph}
                    looks={looks}
                    selected={atom}
                    onSelect={select}
                    layouter={layouter}
                  />
                )}
                <AtomList run={run} looks={looks} selected={atom} />
              </>
            ) : null}
            {tab === 'timeline' ? (
              <Timeline attempts={attempts} now={now} onSelect={select} />
            ) : null}
            {tab === 'events' ? <EventLog events={events} /> : null}
            {tab === 'details' ? (
              <div class="details">
                <h2>Inputs</h2>
                <JsonBlock value={run.inputs} />
                <h2>Job</h2>
                <JsonBlock value={run.job} />
                <h2>Operator actions</h2>
                {run.job?.request == null ? null : (
                  <p class="pending" data-pending={run.job.request.action}>
                    Pending: <strong>{run.job.request.action}</strong>
                    {run.job.request.atom === undefined ? '' : ` on ${run.job.request.atom}`} asked
                    by {run.job.request.by} at {formatTime(run.job.request.at)}
                  </p>
                )}
                {run.actions === undefined ? (
                  <p class="muted">This service does not record operator actions.</p>
                ) : (
                  <AuditList actions={run.actions} />
                )}
              </div>
            ) : null}
          </div>
        </div>
        {atom === undefined ? null : (
          <AtomPanel
            runId={run.id}
            name={atom}
            atom={chosen}
            look={looks.get(atom)}
            attempts={attempts.filter((a) => a.atom === atom)}
            actions={chosen === undefined ? [] : atomActionsOf(run, chosen)}
            onAction={(choice) => ask(choice, atom)}
            onClose={() => navigate({ page: 'run', id, atom: undefined })}
          />
        )}
      </div>
      {confirmation === undefined ? null : (
        <ConfirmDialog confirmation={confirmation} onClose={() => setConfirmation(undefined)} />
      )}
    </section>
  );
}

/** The operator requests a run applied or refused, oldest first. */
function AuditList({ actions }: { readonly actions: readonly OperatorAction[] }) {
  if (actions.length === 0) return <p class="muted">No operator has acted on this run.</p>;
  return (
    <ol class="audit">
      {actions.map((a) => (
        <li key={a.id} data-action={a.action}>
          {formatTime(a.at)}: <strong>{a.action}</strong>
          {a.atom === undefined ? '' : ` on ${a.atom}`}
          {a.revert === false ? ' without revert' : ''} by {a.by}
          {a.reason === undefined ? '' : ` (“${a.reason}”)`}
          {a.refused === undefined ? (
            a.appliedAt === undefined ? null : (
              <span class="muted"> · applied {formatTime(a.appliedAt)}</span>
            )
          ) : (
            <span class="field-error"> · refused: {a.refused}</span>
          )}
        </li>
      ))}
    </ol>
  );
}

const LISTED_ATOMS = 200;

/** The atoms as a list, for reading by keyboard and screen reader beside the graph. */
function AtomList({
  run,
  looks,
  selected,
}: {
  readonly run: Run;
  readonly looks: ReadonlyMap<string, AtomLook>;
  readonly selected: string | undefined;
}) {
  if (run.atoms.length === 0) return <p class="muted">No atom has been recorded yet.</p>;
  const order = ['FAILURE', 'REVERT_FAILURE', 'RUNNING', 'REVERTING', 'RETRYING'];
  const atoms = [...run.atoms].sort((a, b) => {
    const rank = (s: string): number => (order.includes(s) ? order.indexOf(s) : order.length);
    return rank(looks.get(a.name)?.state ?? a.state) - rank(looks.get(b.name)?.state ?? b.state);
  });
  return (
    <details class="atom-list" open={run.atoms.length <= 20}>
      <summary>
        Atoms ({run.atoms.length})
        {run.atoms.length > LISTED_ATOMS ? `, the first ${LISTED_ATOMS} shown, failures first` : ''}
      </summary>
      <ul>
        {atoms.slice(0, LISTED_ATOMS).map((a) => (
          <li key={a.name}>
            <a
              href={href({ page: 'run', id: run.id, atom: a.name })}
              aria-current={a.name === selected ? 'true' : undefined}
            >
              {a.name}
            </a>{' '}
            <StateBadge state={looks.get(a.name)?.state ?? a.state} />{' '}
            {a.attempts > 1 ? `${a.attempts} attempts` : ''}
          </li>
        ))}
      </ul>
    </details>
  );
}
