import type { FailureJson, JsonValue } from '../index.ts';
import type { CliIo } from './command.ts';

const MAX_CELL = 60;

/** Prints rows under headers as columns separated by two spaces; the last column is not padded. */
export function printTable(
  io: CliIo,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): void {
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
    `${fields.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`).join('\n')}\n`,
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
export function printNextHint(io: CliIo, next: string | undefined, noun: string): void {
  if (next !== undefined) io.stderr(`More ${noun}: pass --after ${next} to see the next page.\n`);
}
