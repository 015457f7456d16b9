import type { Atom, Failure } from '../api/types.ts';
import type { AtomLook } from '../graph/atom-states.ts';
import { formatDuration, formatTime } from '../ui/format.ts';
import { JsonBlock, StateBadge } from '../ui/widgets.tsx';
import type { Attempt } from './attempts.ts';
import type { ActionChoice } from './operator-actions.ts';

/**
 * One atom of a run: its state, attempts (from the events), result or failure with its cause
 * chain, retry history, and the operator actions its state allows.
 */
export function AtomPanel({
  runId,
  name,
  atom,
  look,
  attempts,
  actions,
  onAction,
  onClose,
}: {
  readonly runId: string;
  readonly name: string;
  readonly atom: Atom | undefined;
  readonly look: AtomLook | undefined;
  readonly attempts: readonly Attempt[];
  readonly actions: readonly ActionChoice[];
  readonly onAction: (choice: ActionChoice) => void;
  readonly onClose: () => void;
}) {
  const state = look?.state ?? atom?.state ?? 'PENDING';
  const progress = look?.progress ?? atom?.progress ?? 0;
  return (
    <aside class="atom-panel" aria-labelledby="atom-title" data-atom-panel={name}>
      <header>
        <h2 id="atom-title">{name}</h2>
        <StateBadge state={state} />
        <button type="button" class="close" aria-label="Close the atom panel" onClick={onClose}>
          ×
        </button>
      </header>
      {atom === undefined ? (
        <p class="muted">This atom has not been recorded yet: it has not been scheduled.</p>
      ) : (
        <dl class="facts">
          <dt>Kind</dt>
          <dd>
            {atom.kind} v{atom.version}
          </dd>
          <dt>Intention</dt>
          <dd>{atom.intention}</dd>
          <dt>Attempts</dt>
          <dd>{atom.attempts}</dd>
          <dt>Progress</dt>
          <dd>
            <progress max={1} value={progress} aria-label={`progress of ${name}`} />{' '}
            {Math.round(progress * 100)}%
          </dd>
          <dt>Idempotency key</dt>
          <dd>
            <code>
              {runId}:{name}
            </code>
          </dd>
          {atom.completion === undefined ? null : (
            <>
              <dt>Completion order</dt>
              <dd>{atom.completion}</dd>
            </>
          )}
          <dt>Last change</dt>
          <dd>{formatTime(atom.updatedAt)}</dd>
        </dl>
      )}
      {actions.length === 0 ? null : (
        <fieldset class="actions">
          <legend class="sr-only">Atom actions</legend>
          {actions.map((choice) => (
            <button
              key={choice.label}
              type="button"
              class={choice.danger ? 'danger' : ''}
              onClick={() => onAction(choice)}
            >
              {choice.label}
            </button>
          ))}
        </fieldset>
      )}
      <h3>Inputs</h3>
      {atom?.meta.inputs === undefined ? (
        <p class="muted">
          The service does not record the inputs an atom read; the run's inputs are under Details.
        </p>
      ) : (
        <JsonBlock value={atom.meta.inputs} />
      )}
      {atom?.result === undefined ? null : (
        <>
          <h3>Result</h3>
          <JsonBlock value={atom.result} />
        </>
      )}
      {atom?.failure === undefined ? null : <FailureView title="Failure" failure={atom.failure} />}
      {atom?.revertResult === undefined ? null : (
        <>
          <h3>Revert result</h3>
          <JsonBlock value={atom.revertResult} />
        </>
      )}
      {atom?.revertFailure === undefined ? null : (
        <FailureView title="Revert failure" failure={atom.revertFailure} />
      )}
      {atom?.history === undefined || atom.history.length === 0 ? null : (
        <>
          <h3>Retry history</h3>
          <ol class="history">
            {atom.history.map((entry, index) => (
              <li key={index}>
                attempt {index + 1}: result <code>{JSON.stringify(entry.result)}</code>
                {Object.entries(entry.failures).map(([atomName, failure]) => (
                  <div key={atomName}>
                    <strong>{atomName}</strong> failed: {failure.type}: {failure.message}
                  </div>
                ))}
              </li>
            ))}
          </ol>
        </>
      )}
      <h3>Attempts</h3>
      {attempts.length === 0 ? (
        <p class="muted">None seen in the run's events.</p>
      ) : (
        <ol class="attempts">
          {attempts.map((attempt) => (
            <li key={`${attempt.kind}${attempt.number}`}>
              {attempt.kind} {attempt.number}: {formatTime(attempt.start)}
              {attempt.end === undefined
                ? ' → still going'
                : ` → ${formatDuration(attempt.end - attempt.start)}`}{' '}
              <StateBadge state={attempt.outcome} />
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}

/** A failure with its cause chain, outermost first, and its stack when the service sends one. */
function FailureView({ title, failure }: { readonly title: string; readonly failure: Failure }) {
  const chain: Failure[] = [];
  for (let f: Failure | undefined = failure; f !== undefined; f = f.cause) chain.push(f);
  return (
    <section class="failure" aria-label={title}>
      <h3>{title}</h3>
      <ol class="cause-chain">
        {chain.map((f, depth) => (
          <li key={`${depth}:${f.type}`} data-depth={depth}>
            {depth > 0 ? <span class="muted">caused by </span> : null}
            <strong class="failure-type">{f.type}</strong>:{' '}
            <span class="failure-message">{f.message}</span>
            {f.retryable ? <span class="tag">retryable</span> : null}
            {f.details === undefined ? null : <JsonBlock value={f.details} />}
            {f.stack === undefined ? null : <pre class="stack">{f.stack}</pre>}
          </li>
        ))}
      </ol>
      {chain.every((f) => f.stack === undefined) ? (
        <p class="muted">
          The service sends no stack traces (they describe its code); its log has them.
        </p>
      ) : null}
    </section>
  );
}
