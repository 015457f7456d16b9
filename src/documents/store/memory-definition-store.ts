import type { DefinitionStore, StoredDefinition } from './definition-store.ts';

/**
 * Definitions in this process only (for tests and a `memory://` run store): gone at exit.
 *
 * @example
 * const definitions = createMemoryDefinitionStore();
 */
export function createMemoryDefinitionStore(): DefinitionStore {
  const rows: StoredDefinition[] = [];
  return {
    async insert(definition) {
      if (rows.some((r) => r.name === definition.name && r.version === definition.version)) {
        return false;
      }
      rows.push(structuredClone(definition));
      return true;
    },
    async get(name, version) {
      const found = rows.filter(
        (r) => r.name === name && (version === undefined || r.version === version),
      );
      const row = found.at(-1);
      return row === undefined ? undefined : structuredClone(row);
    },
    async list() {
      return structuredClone(
        [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      );
    },
    async close() {},
  };
}
