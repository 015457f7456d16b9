import type { RunChange } from '../api/types.ts';
import { formatTime } from '../ui/format.ts';
import { StateBadge } from '../ui/widgets.tsx';

const SHOWN = 500;

/** The run's events as the service streamed them, newest first. */
export function EventLog({ events }: { readonly events: readonly RunChange[] }) {
  if (events.length === 0) return <p class="empty">No events yet.</p>;
  const newest = events.slice(-SHOWN).reverse();
  return (
    <>
      {events.length > SHOWN ? (
        <p class="muted">
          The latest {SHOWN} of {events.length} events.
        </p>
      ) : null}
      <table class="events">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Atom</th>
            <th scope="col">State</th>
            <th scope="col">Intention</th>
            <th scope="col">Progress</th>
          </tr>
        </thead>
        <tbody>
          {newest.map((event) => (
            <tr key={event.id} data-event={event.id}>
              <td>
                <code>{event.id}</code>
              </td>
              <td>{formatTime(event.at)}</td>
              <td>{event.atom ?? <em>run</em>}</td>
              <td>
                <StateBadge state={event.state} />
              </td>
              <td>{event.intention ?? ''}</td>
              <td>{event.progress === null ? '' : `${Math.round(event.progress * 100)}%`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
