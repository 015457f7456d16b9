import type { FailureJson, JsonValue, Page } from '../index.ts';
import type { CliIo } from './command.ts';

const MAX_CELL = 60;
/** The widest a table cell may print, whatever it holds. */
export const MAX_TABLE_CELL = 80;
/** The widest a `label: value` field may print. */
export const MAX_FIELD = 300;

// C0 controls, DEL, C1 controls (which include CSI, 0x9b), and the Unicode bidi and line
// separators that can reorder or split what an operator's terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what it removes.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from storage made safe for a terminal: control characters (ESC, NUL, newlines, C1, bidi
 * overrides) are shown as escapes (`\x1b`, `\n`, `\u202e`), so a job name or a failure
 * message cannot move the cursor, change colours or forge lines. `--json` output is not passed
 * through this: JSON has its own escapes.
 */
export function safeText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** {@link safeText}, cut to `max` characters. */
export function cell(text: string, max: number): string {
  return truncate(safeText(text), max);
}

/** Prints rows under headers as columns separated by two spaces; the last column is not padded. */
export function printTable(
  io: CliIo,
  headers: readonly string[],
  rawRows: readonly (readonly string[])[],
): void {
  const rows = rawRows.map((row) => row.map((text) => cell(text, MAX_TABLE_CELL)));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  io.stdout(`${[line(headers), ...rows.map(line)].join('\n')}\n`);
}

/** Prints `label: value` lines with the values aligned. */
export function printFields(io: CliIo, fields: readonly (readonly [string, string])[]): void {
  const width = Math.max(...fields.map(([label]) => label.length)) + 1;
  io.stdout(
    `${fields.map(([label, value]) => `${`${label}:`.padEnd(width)} ${cell(value, MAX_FIELD)}`).join('\n')}\n`,
  );
}

/** Prints a value as indented JSON, for `--json`. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Epoch milliseconds as `2026-11-01 10:00:05Z` (UTC, to the second); '-' for none. */
export function formatTime(epochMs: number | null | undefined): string {
  if (epochMs === null || epochMs === undefined) return '-';
  return new Date(epochMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** A value as one line of compact JSON, cut to fit a table cell. */
export function summarizeValue(value: JsonValue | undefined, max = MAX_CELL): string {
  return truncate(JSON.stringify(value) ?? '', max);
}

/** A failure as `Type: message` on one line, cut to fit a table cell. */
export function summarizeFailure(failure: FailureJson, max = MAX_CELL): string {
  return truncate(`${failure.type}: ${failure.message}`.replace(/\s+/g, ' '), max);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Tells a person there are more items, and how to get them. */
function printNextHint(io: CliIo, next: string | undefined, noun: string): void {
  if (next !== undefined)
    io.stderr(`More ${noun}: pass --after ${safeText(next)} to see the next page.\n`);
}

/** How a listing prints: what its items are called (plural), its columns, and one item's row. */
export interface ListingFormat<T> {
  readonly noun: string;
  readonly headers: readonly string[];
  readonly row: (item: T) => string[];
}

/**
 * Prints one page of a listing: `{ items, next }` as JSON for `--json`, else a table (or
 * "No NOUN match.") and, on stderr, how to get the next page.
 */
export function printPage<T>(
  io: CliIo,
  json: boolean,
  page: Page<T>,
  format: ListingFormat<T>,
): void {
  if (json) {
    printJson(io, { items: page.items, next: page.next ?? null });
    return;
  }
  if (page.items.length === 0) {
    io.stdout(`No ${format.noun} match.\n`);
    return;
  }
  printTable(io, format.headers, page.items.map(format.row));
  printNextHint(io, page.next, format.noun);
}
