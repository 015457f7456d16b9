import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadRegistry } from '../../src/cli/flow-argument.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe('the flows module of taskflow serve', () => {
  it('may export a function that makes the registry', async () => {
    const registry = await loadRegistry(fixture('registry-function.ts'), '--flows');
    assert.deepEqual(registry.ref('work'), { name: 'work', version: '1' });
  });

  it('is refused, naming --flows, when it exports no registry', async () => {
    await assert.rejects(loadRegistry(fixture('../sse-client.ts'), '--flows'), {
      code: 'USAGE',
      message: /^--flows ".*sse-client\.ts" exports no FlowRegistry/,
    });
  });
});
