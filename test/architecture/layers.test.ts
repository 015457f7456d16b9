import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The layers of ARCHITECTURE.md and what each may import. A folder of src/ that is not listed
// here fails the test, so a new layer is placed on purpose.
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  core: [],
  drivers: ['core'],
  patterns: ['core'],
  persistence: ['core', 'drivers'],
  jobs: ['core', 'drivers'],
  engine: ['core', 'patterns', 'persistence'],
  conductor: ['core', 'engine', 'jobs', 'persistence'],
  // Where task code runs besides the engine's thread: implements the engine's executor port.
  executors: ['core', 'engine'],
  // Clients of the service's HTTP API know only its JSON shapes.
  client: ['core'],
  // Flow documents compile into flows and are stored beside the runs: between engine and service.
  documents: ['core', 'drivers', 'patterns', 'persistence', 'engine'],
  service: [
    'core',
    'drivers',
    'patterns',
    'persistence',
    'jobs',
    'engine',
    'conductor',
    'documents',
  ],
  testing: ['core', 'drivers', 'patterns', 'persistence', 'jobs', 'engine', 'conductor'],
  // The CLI is a shell over the public API: it imports the package root, as a user would.
  cli: [
    'core',
    'drivers',
    'patterns',
    'persistence',
    'jobs',
    'engine',
    'conductor',
    'documents',
    'service',
    'index',
  ],
};
// The engine sees persistence only through its ports: the interfaces, the records they carry
// and the error they throw.
const ENGINE_MAY_USE = new Set([
  'persistence/ports.ts',
  'persistence/model.ts',
  'persistence/storage-error.ts',
]);

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function importEdges(): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), match[1] as string);
      edges.push({ from: path.relative(SRC, file), to: path.relative(SRC, target) });
    }
  }
  return edges;
}

/** The top folder of src/ a file is in; files at the top (the package root) are "index". */
function layerOf(file: string): string {
  return file.includes(path.sep) ? (file.split(path.sep)[0] as string) : 'index';
}

function wrongWay(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const source = layerOf(from);
    const target = layerOf(to);
    if (source === 'index' || source === target) continue;
    const allowed = ALLOWED[source];
    if (allowed === undefined) {
      problems.push(`${from}: folder "${source}" is not a known layer`);
    } else if (!allowed.includes(target)) {
      problems.push(`${from} imports ${to}: ${source} may not depend on ${target}`);
    } else if (source === 'engine' && target === 'persistence' && !ENGINE_MAY_USE.has(to)) {
      problems.push(`${from} imports ${to}: the engine may use only persistence ports`);
    }
  }
  return problems;
}

function cycles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const state = new Map<string, 'open' | 'done'>();
  const found: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      found.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const to of next.get(file) ?? []) visit(to, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of next.keys()) visit(file, []);
  return found;
}

describe('architecture', () => {
  const edges = importEdges();

  it('reads the imports of the whole source tree', () => {
    assert.ok(edges.length > 200, `only ${edges.length} imports found; is the parser broken?`);
  });

  it('imports only in the directions the layers allow', () => {
    assert.deepEqual(wrongWay(edges), []);
  });

  it('has no import cycles', () => {
    assert.deepEqual(cycles(edges), []);
  });

  it('catches a wrong-way import and a cycle when one is added', () => {
    const bad = [
      ...edges,
      { from: path.join('core', 'states.ts'), to: path.join('engine', 'engine.ts') },
      {
        from: path.join('engine', 'engine.ts'),
        to: path.join('persistence', 'guarded-run-store.ts'),
      },
      { from: path.join('jobs', 'model.ts'), to: path.join('conductor', 'conductor.ts') },
    ];
    assert.deepEqual(wrongWay(bad), [
      'core/states.ts imports engine/engine.ts: core may not depend on engine',
      'engine/engine.ts imports persistence/guarded-run-store.ts: the engine may use only persistence ports',
      'jobs/model.ts imports conductor/conductor.ts: jobs may not depend on conductor',
    ]);
    const loop = [
      { from: 'a.ts', to: 'b.ts' },
      { from: 'b.ts', to: 'a.ts' },
    ];
    assert.deepEqual(cycles(loop), ['a.ts -> b.ts -> a.ts']);
  });
});
