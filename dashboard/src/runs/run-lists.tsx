import type { OperatorAction, Run } from '../api/types.ts';
import type { AtomLook } from '../graph/atom-states.ts';
import { href } from '../routes.ts';
import { formatTime } from '../ui/format.ts';
import { StateBadge } from '../ui/widgets.tsx';

/** The operator requests a run applied or refused, oldest first. */
export function AuditList({ actions }: { readonly actions: readonly OperatorAction[] }) {
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
export function AtomList({
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
