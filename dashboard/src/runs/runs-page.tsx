import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, errorText } from '../api/client.ts';
import { followEvents } from '../api/event-stream.ts';
import type { FlowState, Page, RunChange, RunSummary } from '../api/types.ts';
import { useSession } from '../context.ts';
import { navigate } from '../router.ts';
import { href } from '../routes.ts';
import { formatDuration, formatTime, TERMINAL_RUN_STATES } from '../ui/format.ts';
import { ErrorNote, StateBadge, useNow } from '../ui/widgets.tsx';
import { type Filters, RunFilters, WINDOWS } from './run-filters.tsx';
import { StateBar } from './state-bar.tsx';

const PAGE_SIZE = 50;

function query(filters: Filters, after: string | undefined, since: number): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filters.states.length > 0) params.set('state', filters.states.join(','));
  if (filters.flow !== '') params.set('flow', filters.flow);
  const windowMs = WINDOWS[filters.window]?.ms;
  if (windowMs !== undefined) params.set('createdAfter', new Date(since - windowMs).toISOString());
  if (after !== undefined) params.set('after', after);
  return `/v1/runs?${params}`;
}

/**
 * The runs, a page at a time (oldest first, as the API lists them), with their states kept
 * current by the service's event stream; a new run appears at the end of the last page.
 */
export function RunsPage() {
  const { api, flows } = useSession();
  const [filters, setFilters] = useState<Filters>({ states: [], flow: '', window: 1 });
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const [since, setSince] = useState(() => Date.now());
  const [page, setPage] = useState<Page<RunSummary> | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [live, setLive] = useState(false);
  const [search, setSearch] = useState('');
  const [searchError, setSearchError] = useState<string | undefined>();
  const now = useNow();
  const current = useRef({ page, filters });
  current.current = { page, filters };
  // Events that arrive before the first page: applied once it is shown, so no new run is missed.
  const early = useRef<{ events: RunChange[]; apply: (events: readonly RunChange[]) => void }>({
    events: [],
    apply: () => undefined,
  });

  const after = cursors.at(-1);
  useEffect(() => {
    const controller = new AbortController();
    api
      .get<Page<RunSummary>>(query(filters, after, since), controller.signal)
      .then((loaded) => {
        setPage(loaded);
        setError(undefined);
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(errorText(caught));
      });
    return () => controller.abort();
  }, [api, filters, after, since]);

  useEffect(() => {
    const controller = new AbortController();
    const fetching = new Set<string>();
    const apply = (events: readonly RunChange[]): void => {
      const known = new Set(current.current.page?.items.map((r) => r.id));
      const latest = new Map<string, RunChange>();
      for (const event of events) latest.set(event.runId, event);
      setPage((shown) =>
        shown === undefined
          ? shown
          : {
              ...shown,
              items: shown.items.map((run) => {
                const event = latest.get(run.id);
                if (event === undefined) return run;
                const state = events.findLast((e) => e.runId === run.id && e.atom === null)?.state;
                return {
                  ...run,
                  updatedAt: Math.max(run.updatedAt, event.at),
                  ...(state === undefined ? {} : { state: state as FlowState }),
                };
              }),
            },
      );
      const { page: shown, filters: chosen } = current.current;
      // A run the list lacks belongs at its end (oldest first): add it when that end is shown.
      if (shown === undefined || shown.next !== null || shown.items.length >= PAGE_SIZE) return;
      for (const event of latest.values()) {
        if (known.has(event.runId) || fetching.has(event.runId)) continue;
        fetching.add(event.runId);
        api
          .get<RunSummary>(`/v1/runs/${encodeURIComponent(event.runId)}`, controller.signal)
          .then((run) => {
            if (!matches(run, chosen)) return;
            setPage((now) =>
              now === undefined || now.items.some((r) => r.id === run.id)
                ? now
                : { ...now, items: [...now.items, summary(run)] },
            );
          })
          .catch(() => fetching.delete(event.runId));
      }
    };
    early.current.apply = apply;
    void followEvents(api, {
      path: '/v1/events',
      onEvents: (events) => {
        if (current.current.page === undefined) early.current.events.push(...events);
        else apply(events);
      },
      onConnection: setLive,
      signal: controller.signal,
    });
    return () => controller.abort();
  }, [api]);

  useEffect(() => {
    if (page !== undefined && early.current.events.length > 0) {
      early.current.apply(early.current.events.splice(0));
    }
  }, [page]);

  const change = (next: Partial<Filters>): void => {
    setFilters({ ...filters, ...next });
    setCursors([undefined]);
    setSince(Date.now());
  };
  const needle = search.trim();
  const items = useMemo(
    () => (page?.items ?? []).filter((run) => needle === '' || run.id.includes(needle)),
    [page, needle],
  );
  const openSearched = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (needle === '') return;
    try {
      await api.get(`/v1/runs/${encodeURIComponent(needle)}`);
      navigate({ page: 'run', id: needle, atom: undefined });
    } catch (caught) {
      setSearchError(
        caught instanceof ApiError && caught.status === 404
          ? `No run has id "${needle}".`
          : errorText(caught),
      );
    }
  };

  return (
    <section aria-labelledby="runs-title">
      <div class="page-head">
        <h1 id="runs-title">Runs</h1>
        <span class={live ? 'live on' : 'live'} aria-live="polite">
          {live ? 'live' : 'reconnecting…'}
        </span>
      </div>
      <RunFilters
        filters={filters}
        flows={flows ?? []}
        search={search}
        onChange={change}
        onSearch={(text) => {
          setSearch(text);
          setSearchError(undefined);
        }}
        onOpen={openSearched}
      />
      {searchError === undefined ? null : <ErrorNote>{searchError}</ErrorNote>}
      {error === undefined ? null : <ErrorNote>{error}</ErrorNote>}
      {page === undefined ? (
        <p class="muted">Loading runs…</p>
      ) : (
        <>
          <StateBar states={page.items.map((r) => r.state)} label="Runs on this page by state" />
          {items.length === 0 ? (
            <p class="empty">No runs match. Start one from the Flows page.</p>
          ) : (
            <table class="runs">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Flow</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Last change</th>
                </tr>
              </thead>
              <tbody>
                {items.map((run) => (
                  <tr key={run.id} data-run={run.id} data-state={run.state}>
                    <td>
                      <a href={href({ page: 'run', id: run.id, atom: undefined })}>
                        <code>{run.id}</code>
                      </a>
                    </td>
                    <td>
                      {run.flow === null ? run.name : `${run.flow.name} v${run.flow.version}`}
                    </td>
                    <td>
                      <StateBadge state={run.state} />
                    </td>
                    <td>{formatTime(run.createdAt, now)}</td>
                    <td>
                      {formatDuration(
                        (TERMINAL_RUN_STATES.has(run.state)
                          ? run.updatedAt
                          : Math.max(now, run.updatedAt)) - run.createdAt,
                      )}
                    </td>
                    <td>{formatTime(run.updatedAt, now)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <nav class="pager" aria-label="Pages of runs">
            <button
              type="button"
              disabled={cursors.length === 1}
              onClick={() => setCursors([undefined])}
            >
              First page
            </button>
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
        </>
      )}
    </section>
  );
}

function matches(run: RunSummary, filters: Filters): boolean {
  if (filters.states.length > 0 && !filters.states.includes(run.state)) return false;
  return filters.flow === '' || run.flow?.name === filters.flow;
}

function summary(run: RunSummary): RunSummary {
  const { id, name, state, flow, createdAt, updatedAt } = run;
  return { id, name, state, flow, createdAt, updatedAt };
}
