import { useMemo, useState } from 'preact/hooks';
import { useSession } from '../context.ts';
import { FlowGraphView } from '../graph/flow-graph.tsx';
import { navigate } from '../router.ts';
import { formatDuration, formatTime, TERMINAL_RUN_STATES } from '../ui/format.ts';
import {
  type Confirmation,
  ConfirmDialog,
  ErrorNote,
  JsonBlock,
  ReadOnlyNote,
  StateBadge,
  useNow,
} from '../ui/widgets.tsx';
import { AtomPanel } from './atom-panel.tsx';
import { attemptsOf } from './attempts.ts';
import { EventLog } from './event-log.tsx';
import { useLiveRun } from './live-run.ts';
import { type ActionChoice, atomActionsOf, postAction, runActionsOf } from './operator-actions.ts';
import { AtomList, AuditList } from './run-lists.tsx';
import { Timeline } from './timeline.tsx';

const TABS = ['graph', 'timeline', 'events', 'details'] as const;
type Tab = (typeof TABS)[number];

/**
 * One run, live: its graph coloured by state, the timeline of its attempts, its event log, its
 * inputs, job and operator actions, and the panel of the atom chosen.
 */
export function RunPage({ id, atom }: { readonly id: string; readonly atom: string | undefined }) {
  const { api, flows, layouter, readOnly } = useSession();
  const [tab, setTab] = useState<Tab>('graph');
  const [confirmation, setConfirmation] = useState<Confirmation | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const now = useNow();
  const { run, error, events, looks, reload } = useLiveRun(id);
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
        reload();
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
        reload();
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
      {readOnly ? (
        <ReadOnlyNote />
      ) : (
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
      )}
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
            actions={chosen === undefined || readOnly ? [] : atomActionsOf(run, chosen)}
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
