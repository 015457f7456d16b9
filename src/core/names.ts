/**
 * The one rule set for names that backends store and index: atom, flow and job names (and the
 * other short texts a jobboard stores: flow versions, idempotency keys, owners). Checked before
 * anything is written, so every backend accepts exactly the same names: PostgreSQL rejects a
 * NUL byte in text, a NOTIFY payload is capped at about 8 KB, and a lone surrogate cannot be
 * encoded as UTF-8 (drivers silently replace it, so the name read back would differ).
 */

/** Longest atom and flow name, in UTF-16 code units (`string.length`). */
export const MAX_ATOM_NAME_LENGTH = 256;
/** Longest flow name, in UTF-16 code units. */
export const MAX_FLOW_NAME_LENGTH = 256;
/** Longest job name, idempotency key or other jobboard text, in UTF-16 code units. */
export const MAX_JOB_NAME_LENGTH = 1024;

// C0 controls (NUL included), DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters refused.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// `String.prototype.isWellFormed` is ES2024; the library targets ES2023.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why `value` cannot be a name at most `maxLength` long, as a phrase to follow the name's
 * description (`The job name ... `), or undefined when it is a good name.
 *
 * @example
 * nameProblem('a\u0000b', 256); // 'contains control character U+0000 at position 1'
 */
export function nameProblem(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${describe(value)}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > maxLength)
    return `is ${value.length} characters long; the limit is ${maxLength}`;
  const control = CONTROL.exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `contains control character U+${code} at position ${control.index}; names must be printable text`;
  }
  if (LONE_SURROGATE.test(value))
    return 'contains a lone surrogate (not valid Unicode); names must be valid text';
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
