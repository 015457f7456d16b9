import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../api/client.ts';
import type { Conductor } from '../api/types.ts';
import { useSession } from '../context.ts';
import { href } from '../routes.ts';
import { formatDuration, formatTime } from '../ui/format.ts';
import { ErrorNote, JsonBlock, useNow } from '../ui/widgets.tsx';

const REFRESH_MS = 5000;

/** The live conductors, what each holds, and until when its leases last. */
export function ConductorsPage() {
  const { api } = useSession();
  const [conductors, setConductors] = useState<readonly Conductor[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const now = useNow();

  useEffect(() => {
    const controller = new AbortController();
    const load = (): void => {
      api
        .get<{ items: Conductor[] }>('/v1/conductors', controller.signal)
        .then((list) => {
          setConductors(list.items);
          setError(undefined);
        })
        .catch((caught: unknown) => !controller.signal.aborted && setError(errorText(caught)));
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, [api]);

  return (
    <section aria-labelledby="conductors-title">
      <div class="page-head">
        <h1 id="conductors-title">Conductors</h1>
        <span class="muted">refreshed every {REFRESH_MS / 1000} s</span>
      </div>
      {error === undefined ? null : <ErrorNote>{error}</ErrorNote>}
      {conductors === undefined ? (
        <p class="muted">Loading conductors…</p>
      ) : conductors.length === 0 ? (
        <p class="empty">No conductor is alive: posted runs wait on the board until one starts.</p>
      ) : (
        <ul class="cards">
          {conductors.map((conductor) => (
            <li key={conductor.name} class="card" data-conductor={conductor.name}>
              <h2>{conductor.name}</h2>
              <p class="muted">
                seen {formatTime(conductor.lastSeenAt, now)} · registration{' '}
                {conductor.expiresAt > now
                  ? `lasts ${formatDuration(conductor.expiresAt - now)} more`
                  : 'expired'}
              </p>
              {conductor.claims.length === 0 ? (
                <p>Holds no job.</p>
              ) : (
                <ul>
                  {conductor.claims.map((claim) => (
                    <li key={claim.jobId}>
                      <a href={href({ page: 'run', id: claim.jobId, atom: undefined })}>
                        <code>{claim.jobId}</code>
                      </a>{' '}
                      (fencing token {claim.token}), lease{' '}
                      {formatDuration(Math.max(0, claim.leaseExpiresAt - now))} left
                    </li>
                  ))}
                </ul>
              )}
              {Object.keys(conductor.meta).length === 0 ? null : (
                <JsonBlock value={conductor.meta} />
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
