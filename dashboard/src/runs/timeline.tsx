import { formatDuration, formatTime } from '../ui/format.ts';
import type { Attempt } from './attempts.ts';

const MAX_LANES = 300;

/**
 * A Gantt chart of every execute and revert attempt, one lane per atom in order of first start;
 * the gaps in a lane are the waits between attempts (a retry's backoff, a resume).
 */
export function Timeline({
  attempts,
  now,
  onSelect,
}: {
  readonly attempts: readonly Attempt[];
  readonly now: number;
  readonly onSelect: (atom: string) => void;
}) {
  if (attempts.length === 0) return <p class="empty">No atom has started yet.</p>;
  const start = Math.min(...attempts.map((a) => a.start));
  const end = Math.max(...attempts.map((a) => a.end ?? now));
  const span = Math.max(1, end - start);
  const lanes = new Map<string, Attempt[]>();
  for (const attempt of attempts)
    lanes.set(attempt.atom, [...(lanes.get(attempt.atom) ?? []), attempt]);
  const shown = [...lanes.entries()].slice(0, MAX_LANES);
  const pct = (ms: number): string => `${((ms / span) * 100).toFixed(3)}%`;
  return (
    <div class="timeline">
      <div class="axis" aria-hidden="true">
        <span>{formatTime(start)}</span>
        <span>+{formatDuration(span / 2)}</span>
        <span>+{formatDuration(span)}</span>
      </div>
      <ol class="lanes">
        {shown.map(([atom, list]) => (
          <li key={atom} class="lane">
            <button type="button" class="lane-label" onClick={() => onSelect(atom)}>
              {atom}
            </button>
            <div class="track">
              {list.map((attempt) => {
                const finish = attempt.end ?? now;
                const text = `${attempt.kind} ${attempt.number} of ${atom}: ${attempt.outcome}, ${formatDuration(finish - attempt.start)}`;
                return (
                  <span
                    key={`${attempt.kind}${attempt.number}`}
                    class={`span kind-${attempt.kind} state-${attempt.outcome}${attempt.end === undefined ? ' open' : ''}`}
                    style={{
                      left: pct(attempt.start - start),
                      width: pct(Math.max(finish - attempt.start, span / 500)),
                    }}
                    title={text}
                    role="img"
                    aria-label={text}
                  />
                );
              })}
            </div>
          </li>
        ))}
      </ol>
      {lanes.size > MAX_LANES ? (
        <p class="muted">
          Showing the first {MAX_LANES} of {lanes.size} atoms that ran.
        </p>
      ) : null}
      <p class="legend muted">
        <span class="span kind-execute state-SUCCESS" /> execute{' '}
        <span class="span kind-revert state-REVERTED" /> revert{' '}
        <span class="span kind-execute state-FAILURE" /> failed
      </p>
    </div>
  );
}
