import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createMemoryDefinitionStore,
  DefinitionRegistry,
  type DefinitionStore,
  definitionRow,
  FLOW_DOCUMENT_FORMAT,
  openDefinitionStore,
  WorkerConditionEvaluator,
} from '../../src/documents/index.ts';
import {
  createSqliteRunStore,
  FlowRegistry,
  linearFlow,
  openPostgresRunStore,
  TaskFlowError,
  task,
} from '../../src/index.ts';
import { POSTGRES_URL, testServers } from '../support/servers.ts';

const servers = await testServers('definition-store');
const conditions = new WorkerConditionEvaluator();
after(() => conditions.close());

const hello = (version: string, result = 'hi') => ({
  format: FLOW_DOCUMENT_FORMAT,
  name: 'hello',
  version,
  flow: { type: 'linear', children: [{ type: 'noop', name: 'say', provides: 'greeting', result }] },
});

interface Backend {
  readonly label: string;
  readonly skip: string | false;
  readonly open: () => Promise<{ url: string; store: DefinitionStore; close: () => Promise<void> }>;
}

let files = 0;
const BACKENDS: readonly Backend[] = [
  {
    label: 'memory',
    skip: false,
    open: async () => {
      const store = createMemoryDefinitionStore();
      return { url: 'memory://', store, close: () => store.close() };
    },
  },
  {
    label: 'SQLite',
    skip: false,
    open: async () => {
      const path = join(servers.dir, `runs-${++files}.db`);
      const runs = createSqliteRunStore({ path });
      const url = `sqlite://${path}`;
      const store = await openDefinitionStore(url);
      const close = async (): Promise<void> => {
        await store.close();
        await runs.close();
      };
      return { url, store, close };
    },
  },
  {
    label: 'PostgreSQL',
    skip: servers.pgSkip,
    open: async () => {
      const schema = servers.schemas.next();
      const runs = await openPostgresRunStore({ url: POSTGRES_URL, schema });
      const url = `${POSTGRES_URL}?schema=${schema}`;
      const store = await openDefinitionStore(url);
      const close = async (): Promise<void> => {
        await store.close();
        await runs.close();
      };
      return { url, store, close };
    },
  },
];

for (const backend of BACKENDS) {
  describe(`definition store on ${backend.label}`, { skip: backend.skip }, () => {
    it('keeps each name and version once, and gives the newest version by default', async () => {
      const { store, close } = await backend.open();
      try {
        assert.equal(await store.insert(definitionRow('hello', '1', hello('1'), 1000)), true);
        assert.equal(await store.insert(definitionRow('hello', '2', hello('2'), 2000)), true);
        assert.equal(
          await store.insert(definitionRow('hello', '1', hello('1', 'changed'), 3000)),
          false,
        );
        assert.equal(await store.insert(definitionRow('again', '1', hello('1'), 1500)), true);
        assert.equal((await store.get('hello'))?.version, '2');
        const first = await store.get('hello', '1');
        assert.deepEqual(first?.document, hello('1'));
        assert.equal(first?.createdAt, 1000);
        assert.equal(await store.get('hello', '3'), undefined);
        assert.equal(await store.get('nobody'), undefined);
        assert.deepEqual(
          (await store.list()).map((d) => `${d.name}@${d.version}`),
          ['again@1', 'hello@1', 'hello@2'],
        );
      } finally {
        await close();
      }
    });

    it('serves a definition stored by one registry to another one opened later, as conductors need', async () => {
      const { url, store, close } = await backend.open();
      try {
        const writer = await DefinitionRegistry.open({ store, conditions });
        const put = await writer.put(hello('1'));
        assert.equal(put.created, true);
        assert.equal((await writer.put(hello('1'))).created, false);
        await assert.rejects(writer.put(hello('1', 'other')), (error: unknown) => {
          assert.ok(error instanceof TaskFlowError);
          assert.equal(error.code, 'DEFINITION_EXISTS');
          assert.match(error.message, /publish this document as a new "version"/);
          return true;
        });
        // A registry of another process: its own connection, opened after the put.
        const other = url === 'memory://' ? store : await openDefinitionStore(url);
        try {
          const reader = await DefinitionRegistry.open({ store: other, conditions });
          assert.deepEqual(
            reader.factories().map((f) => `${f.name}@${f.version}`),
            ['hello@1'],
          );
          const flow = reader.build({ name: 'hello', version: '1' }, {});
          assert.equal(flow.children[0]?.name, 'say');
        } finally {
          if (other !== store) await other.close();
        }
      } finally {
        await close();
      }
    });
  });
}

describe('definition registry', () => {
  it('loads a definition stored elsewhere when a run needs it: first a retryable refusal, then the flow', async () => {
    const store = createMemoryDefinitionStore();
    const registry = await DefinitionRegistry.open({ store, conditions });
    await store.insert(definitionRow('late', '1', { ...hello('1'), name: 'late' }, 1));
    const ref = { name: 'late', version: '1' };
    assert.throws(
      () => registry.build(ref, {}),
      (error: unknown) =>
        error instanceof TaskFlowError && error.code === 'DEFINITION_LOADING' && error.retryable,
    );
    await registry.resolve('late', '1');
    assert.equal(registry.build(ref, {}).name, 'late');
  });

  it('refuses a run of a definition no store holds, once the store has been asked', async () => {
    const registry = await DefinitionRegistry.open({
      store: createMemoryDefinitionStore(),
      conditions,
    });
    const ref = { name: 'ghost', version: '1' };
    assert.throws(() => registry.build(ref, {}), { code: 'DEFINITION_LOADING' });
    await registry.resolve('ghost', '1');
    assert.throws(() => registry.build(ref, {}), { code: 'UNKNOWN_FACTORY' });
  });

  it('serves code flows beside definitions, and keeps their names for them', async () => {
    const flows = new FlowRegistry().register({
      name: 'coded',
      version: '3',
      build: () => linearFlow('coded', [task({ name: 't', execute: () => 1 })]),
    });
    const registry = await DefinitionRegistry.open({
      store: createMemoryDefinitionStore(),
      flows,
      conditions,
    });
    await registry.put(hello('1'));
    assert.deepEqual(
      registry.factories().map((f) => `${f.name}@${f.version}`),
      ['coded@3', 'hello@1'],
    );
    assert.deepEqual(registry.ref('coded'), { name: 'coded', version: '3' });
    assert.deepEqual(registry.ref('hello'), { name: 'hello', version: '1' });
    await assert.rejects(registry.put({ ...hello('1'), name: 'coded' }), {
      code: 'INVALID_DOCUMENT',
      message: /"coded" is the name of a flow written in code/,
    });
  });
});
