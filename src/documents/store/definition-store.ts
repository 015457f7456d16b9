import { createHash } from 'node:crypto';

/** A stored flow definition: a document under a name and version, never changed once stored. */
export interface StoredDefinition {
  readonly name: string;
  readonly version: string;
  /** The document as it was stored (JSON). */
  readonly document: unknown;
  /** SHA-256 of the document's canonical JSON: equal documents have equal digests. */
  readonly digest: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/**
 * Where the service keeps flow definitions: a table in the run store's database, so a
 * conductor in another process rebuilds a definition's runs from the same documents.
 * Rows are only ever added.
 *
 * @example
 * const definitions = await openDefinitionStore('sqlite://.taskflow/runs.db');
 * await definitions.insert(row); // false when that name and version is already stored
 */
export interface DefinitionStore {
  /** Adds a definition; false (and nothing changed) when its name and version exist. */
  insert(definition: StoredDefinition): Promise<boolean>;
  /** One version of a definition, or its newest when `version` is omitted. */
  get(name: string, version?: string): Promise<StoredDefinition | undefined>;
  /** Every stored version, by name, each name's versions in the order they were stored. */
  list(): Promise<StoredDefinition[]>;
  close(): Promise<void>;
}

/**
 * The row that stores `document` under `name` and `version`, made at `now`.
 *
 * @example
 * definitionRow('provision', '1', document, Date.now()).digest; // 'a3f1...'
 */
export function definitionRow(
  name: string,
  version: string,
  document: unknown,
  now: number,
): StoredDefinition {
  return {
    name,
    version,
    document,
    digest: createHash('sha256').update(canonicalJson(document)).digest('hex'),
    createdAt: now,
  };
}

/** JSON with object keys sorted, so two equal documents give the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The stored form of a row read back from a backend. */
export interface DefinitionRowData {
  readonly name: string;
  readonly version: string;
  readonly document: string;
  readonly digest: string;
  readonly created_at: number | string;
}

/** A backend's row as a {@link StoredDefinition}. */
export function fromRow(row: DefinitionRowData): StoredDefinition {
  return {
    name: row.name,
    version: row.version,
    document: JSON.parse(row.document) as unknown,
    digest: row.digest,
    createdAt: Number(row.created_at),
  };
}
