import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, errorText } from '../api/client.ts';
import { followEvents } from '../api/event-stream.ts';
import type { Run, RunChange } from '../api/types.ts';
import { useSession } from '../context.ts';
import type { AtomLook } from '../graph/atom-states.ts';

/** The pause before reloading a run whose events kept coming during the last load. */
const RELOAD_PAUSE_MS = 250;

/** A run kept current: its record, its events from the start, and each atom's latest look. */
export interface LiveRun {
  readonly run: Run | undefined;
  readonly error: string | undefined;
  readonly events: readonly RunChange[];
  readonly looks: ReadonlyMap<string, AtomLook>;
  /** Loads the run again now (after an operator action). */
  readonly reload: () => void;
}

/**
 * Follows a run: its events from the start (`GET /v1/runs/{id}/events`), and its record
 * (`GET /v1/runs/{id}`) reloaded after each batch of them. An atom's state and progress come
 * from whichever is newer, its record or its latest event.
 */
export function useLiveRun(id: string): LiveRun {
  const { api } = useSession();
  const [run, setRun] = useState<Run | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [events, setEvents] = useState<readonly RunChange[]>([]);
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
  return { run, error, events, looks, reload: () => reload.current() };
}
