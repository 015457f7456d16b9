import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../api/client.ts';
import { followEvents } from '../api/event-stream.ts';
import { JOB_STATES, type Job, type JobState, type Page } from '../api/types.ts';
import { useSession } from '../context.ts';
import { href } from '../routes.ts';
import { formatDuration, formatTime } from '../ui/format.ts';
import {
  type Confirmation,
  ConfirmDialog,
  ErrorNote,
  ReadOnlyNote,
  StateBadge,
  useNow,
} from '../ui/widgets.tsx';

const PAGE_SIZE = 50;

/**
 * The jobboard: jobs by state, who holds each claim and for how long, dead-lettered jobs with
 * their reason; trash and redrive. Reloaded when runs change (a job changes with its run).
 */
export function JobsPage() {
  const { api, readOnly } = useSession();
  const [state, setState] = useState<JobState | ''>('');
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<Job> | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [version, setVersion] = useState(0);
  const [confirmation, setConfirmation] = useState<Confirmation | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const now = useNow();
  const after = cursors.at(-1);

  useEffect(() => {
    const controller = new AbortController();
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state !== '') params.set('state', state);
    if (after !== undefined) params.set('after', after);
    api
      .get<Page<Job>>(`/v1/jobs?${params}`, controller.signal)
      .then((loaded) => {
        setPage(loaded);
        setError(undefined);
      })
      .catch((caught: unknown) => !controller.signal.aborted && setError(errorText(caught)));
    return () => controller.abort();
  }, [api, state, after, version]);

  useEffect(() => {
    const controller = new AbortController();
    void followEvents(api, {
      path: '/v1/events',
      onEvents: (events) => {
        if (events.some((e) => e.atom === null)) setVersion((v) => v + 1);
      },
      signal: controller.signal,
    });
    return () => controller.abort();
  }, [api]);

  const act = (job: Job, action: 'trash' | 'redrive'): void =>
    setConfirmation({
      title: action === 'trash' ? `Trash job ${job.id}?` : `Redrive job ${job.id}?`,
      message:
        action === 'trash' ? (
          <p>
            The job is deleted from the board and its idempotency key becomes free. Its run's record
            stays.
          </p>
        ) : (
          <p>The job goes back on the board with its attempts reset.</p>
        ),
      confirm: action === 'trash' ? 'Trash' : 'Redrive',
      danger: action === 'trash',
      run: async () => {
        await api.post(`/v1/jobs/${encodeURIComponent(job.id)}/${action}`);
        setNotice(
          action === 'trash' ? `Job ${job.id} is trashed.` : `Job ${job.id} is back on the board.`,
        );
        setVersion((v) => v + 1);
      },
    });

  return (
    <section aria-labelledby="jobs-title">
      <div class="page-head">
        <h1 id="jobs-title">Jobs</h1>
        <button type="button" onClick={() => setVersion((v) => v + 1)}>
          Refresh
        </button>
      </div>
      <div class="filters">
        <label class="field inline">
          <span>State</span>
          <select
            value={state}
            onChange={(e) => {
              setState((e.target as HTMLSelectElement).value as JobState | '');
              setCursors([undefined]);
            }}
          >
            <option value="">any</option>
            {JOB_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {readOnly ? <ReadOnlyNote /> : null}
      {notice === undefined ? null : (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error === undefined ? null : <ErrorNote>{error}</ErrorNote>}
      {page === undefined ? (
        <p class="muted">Loading jobs…</p>
      ) : page.items.length === 0 ? (
        <p class="empty">No jobs{state === '' ? '' : ` in state ${state}`}.</p>
      ) : (
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Flow</th>
              <th scope="col">State</th>
              <th scope="col">Conductor</th>
              <th scope="col">Attempts</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((job) => (
              <tr key={job.id} data-job={job.id} data-state={job.state}>
                <td>
                  <a href={href({ page: 'run', id: job.id, atom: undefined })}>
                    <code>{job.id}</code>
                  </a>
                </td>
                <td>
                  {job.flow.name} v{job.flow.version}
                </td>
                <td>
                  <StateBadge state={job.state} />
                  {job.deadLetterReason === null ? null : (
                    <div class="reason">{job.deadLetterReason}</div>
                  )}
                  {job.request == null ? null : (
                    <div class="muted">
                      {job.request.action} asked by {job.request.by}
                    </div>
                  )}
                </td>
                <td>
                  {job.owner ?? '—'}
                  {job.state === 'CLAIMED' && job.leaseExpiresAt !== null ? (
                    <div class="muted">lease {leaseText(job.leaseExpiresAt - now)}</div>
                  ) : null}
                </td>
                <td>{job.attempts}</td>
                <td>{formatTime(job.createdAt, now)}</td>
                <td class="row-actions">
                  {readOnly ? (
                    <span class="muted">read only</span>
                  ) : (
                    <>
                      {job.state === 'DEAD_LETTER' ? (
                        <button type="button" onClick={() => act(job, 'redrive')}>
                          Redrive
                        </button>
                      ) : null}
                      <button
                        type="button"
                        class="danger"
                        onClick={() => act(job, 'trash')}
                        aria-label={`Trash job ${job.id}`}
                      >
                        Trash
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page === undefined ? null : (
        <nav class="pager" aria-label="Pages of jobs">
          <button
            type="button"
            disabled={cursors.length === 1}
            onClick={() => setCursors(cursors.slice(0, -1))}
          >
            Previous
          </button>
          <span>page {cursors.length}</span>
          <button
            type="button"
            disabled={page.next === null}
            onClick={() => page.next !== null && setCursors([...cursors, page.next])}
          >
            Next
          </button>
        </nav>
      )}
      {confirmation === undefined ? null : (
        <ConfirmDialog confirmation={confirmation} onClose={() => setConfirmation(undefined)} />
      )}
    </section>
  );
}

function leaseText(leftMs: number): string {
  return leftMs > 0
    ? `expires in ${formatDuration(leftMs)}`
    : `expired ${formatDuration(-leftMs)} ago`;
}
