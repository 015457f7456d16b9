import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One numbered schema change, read from `NNN-name.sql`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const FILE = /^(\d{3})-([a-z0-9-]+)\.sql$/;

/**
 * Reads the numbered `.sql` files of `directory`, in order. Numbers must run 1, 2, 3, ...
 * without gaps, so the highest number is the schema version this code knows.
 *
 * @example
 * const migrations = readMigrations(new URL('./migrations/', import.meta.url));
 */
export function readMigrations(directory: URL): Migration[] {
  const path = fileURLToPath(directory);
  const migrations = readdirSync(path)
    .map((file) => ({ file, match: FILE.exec(file) }))
    .filter((entry) => entry.match !== null)
    .map(({ file, match }) => ({
      version: Number(match?.[1]),
      name: match?.[2] ?? file,
      sql: readFileSync(new URL(file, directory), 'utf8'),
    }))
    .sort((a, b) => a.version - b.version);
  for (const [index, migration] of migrations.entries()) {
    if (migration.version !== index + 1) {
      // A gap means a file is missing from the package; applying the rest would corrupt the schema.
      throw new Error(
        `Migration ${String(index + 1).padStart(3, '0')} is missing from ${path}; reinstall the package.`,
      );
    }
  }
  return migrations;
}
