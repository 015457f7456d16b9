/** The part of a JSON Schema of one input that the start-run form reads. */
export interface FieldSchema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly description?: string;
  readonly default?: unknown;
}

/** A flow's input schema as the service publishes it (JSON Schema of an object), if it has one. */
export interface InputsSchema {
  readonly properties?: Readonly<Record<string, FieldSchema>>;
  readonly required?: readonly string[];
}

/** How a field is entered and read: JSON (or else text), text, a number, a choice, yes/no. */
export type FieldKind = 'json' | 'string' | 'number' | 'integer' | 'boolean' | 'choice';

/** One field of the start-run form. */
export interface InputField {
  readonly name: string;
  readonly required: boolean;
  readonly kind: FieldKind;
  readonly schema: FieldSchema | undefined;
}

/** What the form's fields hold: one text per field (a choice's JSON), and extra JSON. */
export interface InputTexts {
  readonly values: Readonly<Record<string, string>>;
  readonly extra: string;
}

export type InputCheck =
  | { readonly ok: true; readonly inputs: Record<string, unknown> }
  | { readonly ok: false; readonly errors: Readonly<Record<string, string>> };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const EXTRA_SHAPE = 'Extra inputs must be a JSON object, e.g. {"failBoot": true}.';

/**
 * The form's fields: every input the flow requires, then the other inputs its schema describes;
 * each typed by its schema when there is one (a JSON value otherwise).
 */
export function inputFields(
  requires: readonly string[],
  schema: InputsSchema | null | undefined,
): InputField[] {
  const properties = schema?.properties ?? {};
  const names = [...requires, ...Object.keys(properties).filter((n) => !requires.includes(n))];
  return names.map((name) => {
    const field = properties[name];
    return {
      name,
      required: requires.includes(name) || (schema?.required ?? []).includes(name),
      kind: kindOf(field),
      schema: field,
    };
  });
}

function kindOf(field: FieldSchema | undefined): FieldKind {
  if (field?.enum !== undefined) return 'choice';
  const type = Array.isArray(field?.type) ? undefined : field?.type;
  switch (type) {
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return type;
    default:
      return 'json';
  }
}

/** A field's first text: its schema's default, as the field shows it. */
export function initialText(field: InputField): string {
  const value = field.schema?.default;
  if (value === undefined) return '';
  return field.kind === 'string' && typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Reads the form as the API will check it: every required input given; each value of its
 * field's kind and within its schema's bounds; a JSON field's text is JSON when it parses
 * (`10`, `true`, `{"a":1}`) and a string otherwise; extra inputs are a JSON object; no
 * `__proto__`, `constructor` or `prototype` key and no number JSON cannot store (`1e999`).
 * Errors are keyed by field (`extra` for the extra inputs).
 */
export function checkInputs(fields: readonly InputField[], texts: InputTexts): InputCheck {
  const errors: Record<string, string> = {};
  const inputs: Record<string, unknown> = {};
  if (texts.extra.trim() !== '') {
    const extra = parseJson(texts.extra)?.value;
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
      errors.extra = EXTRA_SHAPE;
    } else {
      const bad = unstorable(extra);
      if (bad !== undefined) errors.extra = bad;
      else Object.assign(inputs, extra);
    }
  }
  for (const field of fields) {
    const text = texts.values[field.name] ?? '';
    if (text.trim() === '') {
      if (field.required) errors[field.name] = 'required by the flow';
      continue;
    }
    const read = readField(field, text);
    if (typeof read === 'string') errors[field.name] = read;
    else inputs[field.name] = read.value;
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, inputs };
}

/** A field's value, or why its text is not one. */
function readField(field: InputField, text: string): { value: unknown } | string {
  const schema = field.schema ?? {};
  let value: unknown;
  switch (field.kind) {
    case 'string':
      value = text;
      break;
    case 'number':
    case 'integer':
      value = Number(text.trim());
      if (!Number.isFinite(value)) return 'must be a number';
      if (field.kind === 'integer' && !Number.isInteger(value)) return 'must be a whole number';
      break;
    case 'boolean':
      if (text !== 'true' && text !== 'false') return 'must be true or false';
      value = text === 'true';
      break;
    case 'choice':
      value = (schema.enum ?? []).find((option) => JSON.stringify(option) === text);
      if (value === undefined)
        return `must be one of ${(schema.enum ?? []).map((o) => JSON.stringify(o)).join(', ')}`;
      break;
    case 'json':
      value = (parseJson(text) ?? { value: text }).value;
      break;
  }
  return outOfBounds(value, schema) ?? unstorable(value) ?? { value };
}

/** The JSON value a text holds, or undefined when it is not JSON. */
function parseJson(text: string): { readonly value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/** Why a value breaks its schema's bounds, or undefined when it keeps them. */
function outOfBounds(value: unknown, schema: FieldSchema): string | undefined {
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      return `must be at least ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum)
      return `must be at most ${schema.maximum}`;
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
      return `must be more than ${schema.exclusiveMinimum}`;
    }
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) {
      return `must be less than ${schema.exclusiveMaximum}`;
    }
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      return `must be at least ${schema.minLength} characters`;
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      return `must be at most ${schema.maxLength} characters`;
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      return `must match ${schema.pattern}`;
    }
  }
  return undefined;
}

/** Why a value cannot be sent, or undefined when it can. */
function unstorable(value: unknown): string | undefined {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return `${value} is not a number JSON can store.`;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `The key "${key}" is not allowed.`;
    const bad = unstorable(inner);
    if (bad !== undefined) return bad;
  }
  return undefined;
}
