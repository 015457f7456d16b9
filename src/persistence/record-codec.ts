import type { AtomDetail, FlowDetail, LogBook } from './model.ts';
import { StorageError } from './storage-error.ts';

// Records are stored whole as JSON text: exact for every JSON-safe value (the guard has
// refused the rest), unlike PostgreSQL's jsonb, which rejects "\u0000" and reorders keys.

/** The stored text of a record the guard has found JSON-safe. */
export function encodeRecord(record: LogBook | FlowDetail | AtomDetail): string {
  return JSON.stringify(record);
}

export function decodeLogBook(text: unknown, where: string): LogBook {
  return decode<LogBook>(text, where, ['id', 'name']);
}

export function decodeFlow(text: unknown, where: string): FlowDetail {
  return decode<FlowDetail>(text, where, ['id', 'logbookId', 'name', 'state']);
}

export function decodeAtom(text: unknown, where: string): AtomDetail {
  return decode<AtomDetail>(text, where, ['name', 'kind', 'state']);
}

function decode<T>(text: unknown, where: string, required: readonly string[]): T {
  let value: unknown;
  try {
    value = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {
    value = undefined;
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    required.every((key) => typeof (value as Record<string, unknown>)[key] === 'string')
  ) {
    return value as T;
  }
  throw new StorageError(
    'STORAGE_CORRUPT',
    `The stored record ${where} is not valid JSON with ${required.join(', ')}; the database was changed outside this library. Restore it from a backup or remove the record.`,
  );
}
