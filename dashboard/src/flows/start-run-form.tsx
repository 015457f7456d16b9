import { useState } from 'preact/hooks';
import { ApiError, errorText } from '../api/client.ts';
import type { Flow } from '../api/types.ts';
import { useSession } from '../context.ts';
import { navigate } from '../router.ts';
import { ErrorNote } from '../ui/widgets.tsx';
import { checkInputs, type InputField, initialText, inputFields } from './run-inputs.ts';

/**
 * Starts a run of a flow: one field per input (typed by the flow's input schema when it has
 * one), checked as the API checks them before posting; the API's own field errors are shown on
 * their fields if it still refuses. Opens the new run's page.
 */
export function StartRunForm({ flow }: { readonly flow: Flow }) {
  const { api } = useSession();
  const fields = inputFields(flow.requires, flow.inputSchema);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((field) => [field.name, initialText(field)])),
  );
  const [extra, setExtra] = useState('');
  const [key, setKey] = useState('');
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const [failure, setFailure] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const fieldId = (name: string): string => `input-${flow.name}-${name}`;

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setFailure(undefined);
    const checked = checkInputs(fields, { values, extra });
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const created = await api.post<{ id: string }>(
        '/v1/runs',
        { flow: flow.name, version: flow.version, inputs: checked.inputs },
        key.trim() === '' ? {} : { 'Idempotency-Key': key.trim() },
      );
      navigate({ page: 'run', id: created.id, atom: undefined });
    } catch (caught) {
      setBusy(false);
      const byField: Record<string, string> = {};
      if (caught instanceof ApiError) {
        for (const e of caught.problem?.errors ?? []) {
          const name = e.path.replace(/^(body\.)?inputs\./, '').split('.')[0] ?? '';
          byField[fields.some((f) => f.name === name) ? name : 'extra'] = e.message;
        }
      }
      setErrors(byField);
      setFailure(errorText(caught));
    }
  };

  return (
    <form class="start-run" onSubmit={submit} aria-labelledby="start-title" noValidate>
      <h3 id="start-title">Start a run</h3>
      {fields.map((field) => {
        const id = fieldId(field.name);
        const error = errors[field.name];
        return (
          <div class="field" key={field.name}>
            <label for={id}>
              {field.name}
              {field.required ? '' : ' (optional)'}
            </label>
            <InputControl
              id={id}
              field={field}
              value={values[field.name] ?? ''}
              invalid={error !== undefined}
              onChange={(value) => setValues({ ...values, [field.name]: value })}
            />
            {field.schema?.description === undefined ? null : (
              <span class="muted" id={`${id}-hint`}>
                {field.schema.description}
              </span>
            )}
            {error === undefined ? null : (
              <span class="field-error" id={`${id}-error`}>
                {error}
              </span>
            )}
          </div>
        );
      })}
      {fields.some((field) => field.kind === 'json') ? (
        <p class="muted">
          A value without a type is read as JSON (10, true, {'{"a": 1}'}); other text is sent as a
          string.
        </p>
      ) : null}
      <div class="field">
        <label for={fieldId('extra')}>Other inputs (JSON object, optional)</label>
        <textarea
          id={fieldId('extra')}
          name="extra"
          rows={2}
          value={extra}
          placeholder='{"failBoot": true}'
          aria-invalid={errors.extra === undefined ? undefined : 'true'}
          onInput={(e) => setExtra((e.target as HTMLTextAreaElement).value)}
        />
        {errors.extra === undefined ? null : <span class="field-error">{errors.extra}</span>}
      </div>
      <div class="field">
        <label for={fieldId('key')}>Idempotency key (optional)</label>
        <input
          id={fieldId('key')}
          name="idempotency-key"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
      </div>
      {failure === undefined ? null : <ErrorNote>{failure}</ErrorNote>}
      <button type="submit" class="primary" disabled={busy}>
        Start run
      </button>
    </form>
  );
}

/** The control of one field: a list for choices and yes/no, a number box, or a text box. */
function InputControl({
  id,
  field,
  value,
  invalid,
  onChange,
}: {
  readonly id: string;
  readonly field: InputField;
  readonly value: string;
  readonly invalid: boolean;
  readonly onChange: (value: string) => void;
}) {
  const common = {
    id,
    name: field.name,
    value,
    'aria-invalid': invalid ? ('true' as const) : undefined,
    'aria-describedby':
      [invalid ? `${id}-error` : '', field.schema?.description ? `${id}-hint` : '']
        .filter((s) => s !== '')
        .join(' ') || undefined,
  };
  if (field.kind === 'choice' || field.kind === 'boolean') {
    const options = field.kind === 'boolean' ? [true, false] : (field.schema?.enum ?? []);
    return (
      <select {...common} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        <option value="">{field.required ? 'choose…' : '—'}</option>
        {options.map((option) => (
          <option key={JSON.stringify(option)} value={JSON.stringify(option)}>
            {typeof option === 'string' ? option : JSON.stringify(option)}
          </option>
        ))}
      </select>
    );
  }
  const input = (e: Event): void => onChange((e.target as HTMLInputElement).value);
  if (field.kind === 'number' || field.kind === 'integer') {
    return (
      <input
        {...common}
        type="number"
        step={field.kind === 'integer' ? '1' : 'any'}
        min={field.schema?.minimum}
        max={field.schema?.maximum}
        onInput={input}
      />
    );
  }
  return <input {...common} type="text" onInput={input} />;
}
