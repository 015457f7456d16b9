/** What the start-run form's fields hold: one text per required input, and extra JSON. */
export interface InputTexts {
  readonly values: Readonly<Record<string, string>>;
  readonly extra: string;
}

export type InputCheck =
  | { readonly ok: true; readonly inputs: Record<string, unknown> }
  | { readonly ok: false; readonly errors: Readonly<Record<string, string>> };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Reads the form as the API will check it: every required input given; a field's text is JSON
 * when it parses (`10`, `true`, `{"a":1}`) and a string otherwise; extra inputs are a JSON
 * object; no `__proto__`, `constructor` or `prototype` key and no number JSON cannot store
 * (`1e999`), which the API refuses. Errors are keyed by field (`extra` for the extra inputs).
 */
export function checkInputs(requires: readonly string[], texts: InputTexts): InputCheck {
  const errors: Record<string, string> = {};
  const inputs: Record<string, unknown> = {};
  if (texts.extra.trim() !== '') {
    let extra: unknown;
    try {
      extra = JSON.parse(texts.extra);
    } catch {
      errors.extra = 'Extra inputs must be a JSON object, e.g. {"failBoot": true}.';
    }
    if (errors.extra === undefined) {
      if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
        errors.extra = 'Extra inputs must be a JSON object, e.g. {"failBoot": true}.';
      } else {
        const bad = unstorable(extra);
        if (bad !== undefined) errors.extra = bad;
        else Object.assign(inputs, extra);
      }
    }
  }
  for (const name of requires) {
    const text = texts.values[name] ?? '';
    if (text.trim() === '') {
      errors[name] = 'required by the flow';
      continue;
    }
    const value = parseValue(text);
    const bad = unstorable(value);
    if (bad !== undefined) errors[name] = bad;
    else inputs[name] = value;
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, inputs };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Why a value cannot be sent, or undefined when it can. */
function unstorable(value: unknown): string | undefined {
  if (typeof value === 'number' && !Number.isFinite(value))
    return `${value} is not a number JSON can store.`;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `The key "${key}" is not allowed.`;
    const bad = unstorable(inner);
    if (bad !== undefined) return bad;
  }
  return undefined;
}
