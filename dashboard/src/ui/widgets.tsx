import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

/** A state as a coloured badge; its colour comes from the stylesheet, by state. */
export function StateBadge({ state }: { readonly state: string }) {
  return <span class={`badge state-${state}`}>{state}</span>;
}

/** An error message for the reader, in an alert region so screen readers announce it. */
export function ErrorNote({ children }: { readonly children: ComponentChildren }) {
  return (
    <p class="error-note" role="alert">
      {children}
    </p>
  );
}

/** The current time, advancing every `everyMs` while the component is shown. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** A text the confirmation asks for along with the yes. */
export interface ConfirmField {
  readonly name: string;
  readonly label: string;
  readonly initial: string;
  readonly multiline?: boolean;
}

/** What a confirmation asks, and what it does once confirmed. */
export interface Confirmation {
  readonly title: string;
  readonly message: ComponentChildren;
  readonly confirm: string;
  readonly danger?: boolean;
  readonly fields?: readonly ConfirmField[];
  /** Gets the fields' texts by name; its error is shown in the dialog, which stays open. */
  readonly run: (values: Readonly<Record<string, string>>) => Promise<void>;
}

/**
 * A modal confirmation (the browser's `<dialog>`: focus moves into it and Escape closes it).
 * Shows the action's error, if it fails, without closing.
 */
export function ConfirmDialog({
  confirmation,
  onClose,
}: {
  readonly confirmation: Confirmation;
  readonly onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries((confirmation.fields ?? []).map((f) => [f.name, f.initial])),
  );
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await confirmation.run(values);
      onClose();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
      setBusy(false);
    }
  };
  return (
    <dialog ref={dialog} class="confirm" onClose={onClose} aria-labelledby="confirm-title">
      <form method="dialog" onSubmit={submit}>
        <h2 id="confirm-title">{confirmation.title}</h2>
        <div>{confirmation.message}</div>
        {(confirmation.fields ?? []).map((field) => {
          const change = (e: Event): void =>
            setValues({ ...values, [field.name]: (e.target as HTMLInputElement).value });
          const id = `confirm-${field.name}`;
          return (
            <div class="field" key={field.name}>
              <label for={id}>{field.label}</label>
              {field.multiline ? (
                <textarea id={id} rows={4} value={values[field.name]} onInput={change} />
              ) : (
                <input id={id} value={values[field.name]} onInput={change} />
              )}
            </div>
          );
        })}
        {error === undefined ? null : <ErrorNote>{error}</ErrorNote>}
        <div class="buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class={confirmation.danger ? 'danger' : 'primary'} disabled={busy}>
            {confirmation.confirm}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Said where actions would be, once the service has refused one for the token's scope. */
export function ReadOnlyNote() {
  return (
    <p class="muted read-only">
      This token may only read: the service refused an action for its scope. Sign in with an operate
      token to act.
    </p>
  );
}

/** A JSON value, pretty-printed in a scrollable block. */
export function JsonBlock({ value }: { readonly value: unknown }) {
  return <pre class="json">{value === undefined ? '—' : JSON.stringify(value, null, 2)}</pre>;
}
