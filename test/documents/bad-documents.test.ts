import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  compileDocument,
  createMemoryDefinitionStore,
  DefinitionRegistry,
  DocumentError,
  type DocumentIssueCode,
  FLOW_DOCUMENT_FORMAT,
  parseDocumentText,
  WorkerConditionEvaluator,
} from '../../src/documents/index.ts';

const conditions = new WorkerConditionEvaluator();
after(() => conditions.close());
const environment = {
  http: { allowHosts: ['api.example.com'], secrets: { api_token: 'x' } },
  conditions,
};

function document(flow: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { format: FLOW_DOCUMENT_FORMAT, name: 'bad', version: '1', flow, ...extra };
}
const linear = (...children: unknown[]) => document({ type: 'linear', children });
const noop = (name: string, more: Record<string, unknown> = {}) => ({
  type: 'noop',
  name,
  ...more,
});
const http = (more: Record<string, unknown>) => ({
  type: 'http',
  name: 'call',
  method: 'GET',
  url: 'https://api.example.com/items',
  ...more,
});

interface Case {
  readonly label: string;
  readonly input: unknown;
  readonly code: DocumentIssueCode;
  readonly path: string;
  readonly message: RegExp;
}

const CASES: readonly Case[] = [
  {
    label: 'text that is neither JSON nor YAML',
    input: '{ "format": ',
    code: 'SYNTAX',
    path: '$',
    message: /neither valid JSON nor YAML/,
  },
  {
    label: 'another format',
    input: { ...linear(noop('a')), format: 'taskflow.flow/v0' },
    code: 'SCHEMA',
    path: '$.format',
    message: /must be "taskflow\.flow\/v1"/,
  },
  {
    label: 'an unknown task type',
    input: linear({ type: 'lambda', name: 'a' }),
    code: 'SCHEMA',
    path: '$.flow.children[0].type',
    message: /type "lambda"; use one of "linear", "unordered", "graph", "http", "noop", "sleep"/,
  },
  {
    label: 'an unknown retry type',
    input: document({ type: 'linear', retry: { type: 'forever', name: 'r' }, children: [] }),
    code: 'SCHEMA',
    path: '$.flow.retry.type',
    message: /a retry has type "forever"/,
  },
  {
    label: 'a key the format does not have',
    input: linear(noop('a', { retries: 3 })),
    code: 'SCHEMA',
    path: '$.flow.children[0]',
    message: /Unrecognized key: "retries"/,
  },
  {
    label: 'a task without a name',
    input: linear({ type: 'noop' }),
    code: 'SCHEMA',
    path: '$.flow.children[0].name',
    message: /expected string/,
  },
  {
    label: 'a key that reaches the prototype',
    input:
      '{"format": "taskflow.flow/v1", "name": "x", "version": "1", "flow": {"type": "linear", "children": [], "__proto__": {}}}',
    code: 'FORBIDDEN_KEY',
    path: '$["flow"]["__proto__"]',
    message: /refused as keys/,
  },
  {
    label: 'a value JSON cannot store',
    input:
      'format: taskflow.flow/v1\nname: x\nversion: "1"\nflow: { type: linear, children: [ { type: noop, name: a, result: .inf } ] }',
    code: 'NOT_STORABLE',
    path: '$.flow.children[0].result',
    message: /Infinity/,
  },
  {
    label: 'a name used twice across nesting',
    input: linear(noop('a'), { type: 'unordered', name: 'inner', children: [noop('a')] }),
    code: 'DUPLICATE_NAME',
    path: '$.flow.children[1].children[0].name',
    message: /"a" is already used at \$\.flow\.children\[0\]/,
  },
  {
    label: 'a cycle of links',
    input: document({
      type: 'graph',
      children: [noop('a'), noop('b')],
      links: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    }),
    code: 'CYCLE',
    path: '$.flow.links',
    message: /has a cycle a → b → a/,
  },
  {
    label: 'a cycle of requirements',
    input: document({
      type: 'graph',
      children: [
        noop('a', { requires: ['y'], provides: 'x' }),
        noop('b', { requires: ['x'], provides: 'y' }),
      ],
    }),
    code: 'CYCLE',
    path: '$.flow.children',
    message: /cycle/,
  },
  {
    label: 'a requirement nothing provides and the inputs lack',
    input: linear(noop('a', { provides: 'x' }), noop('b', { requires: ['x', 'size'] })),
    code: 'MISSING_REQUIREMENT',
    path: '$.flow.children[1]',
    message: /"b" requires "size".*list "size" in "inputs"/,
  },
  {
    label: 'two providers equally near',
    input: linear(
      {
        type: 'unordered',
        name: 'both',
        children: [noop('a', { provides: 'x' }), noop('b', { provides: 'x' })],
      },
      noop('c', { requires: ['x'] }),
    ),
    code: 'AMBIGUOUS_PROVIDER',
    path: '$.flow.children[1]',
    message: /"a" and "b" all provide/,
  },
  {
    label: 'a link to a child the graph lacks',
    input: document({ type: 'graph', children: [noop('a')], links: [{ from: 'a', to: 'z' }] }),
    code: 'UNKNOWN_LINK',
    path: '$.flow.links[0].to',
    message: /no child named "z" \(its children: "a"\)/,
  },
  {
    label: 'a condition that is not JSONata',
    input: document({
      type: 'graph',
      children: [noop('a'), noop('b')],
      links: [{ from: 'a', to: 'b', when: '$result.ok = ' }],
    }),
    code: 'EXPRESSION',
    path: '$.flow.links[0].when',
    message: /is not valid JSONata at position \d+/,
  },
  {
    label: 'a URL template that is not JSONata',
    input: linear(http({ url: 'https://api.example.com/items/{{ id + }}' })),
    code: 'EXPRESSION',
    path: '$.flow.children[0].url',
    message: /the template "\{\{ id \+ \}\}" holds/,
  },
  {
    label: 'a result selection that is not JSONata',
    input: linear(http({ result: 'body.[' })),
    code: 'EXPRESSION',
    path: '$.flow.children[0].result',
    message: /not valid JSONata/,
  },
  {
    label: 'a URL outside the allow-list',
    input: linear(http({ url: 'http://169.254.169.254/latest/meta-data' })),
    code: 'HOST_NOT_ALLOWED',
    path: '$.flow.children[0].url',
    message:
      /169\.254\.169\.254 is not on this service's allow-list of hosts \(api\.example\.com\)/,
  },
  {
    label: 'a revert URL outside the allow-list',
    input: linear(http({ revert: { method: 'DELETE', url: 'https://evil.example.com/x' } })),
    code: 'HOST_NOT_ALLOWED',
    path: '$.flow.children[0].revert.url',
    message: /evil\.example\.com is not on/,
  },
  {
    label: 'a host that comes from a template',
    input: linear(http({ url: 'https://{{ host }}/items' })),
    code: 'BAD_URL',
    path: '$.flow.children[0].url',
    message: /must start with a literal http:\/\/ or https:\/\/ scheme and host/,
  },
  {
    label: 'a secret that is not configured',
    input: linear(http({ headers: { Authorization: 'Bearer {{ $secrets.other }}' } })),
    code: 'UNKNOWN_SECRET',
    path: '$.flow.children[0].headers.Authorization',
    message: /the secret "other" is not configured on this service \(configured: api_token\)/,
  },
  {
    label: 'a secret outside the headers',
    input: linear(http({ method: 'POST', body: { token: '{{ $secrets.api_token }}' } })),
    code: 'UNKNOWN_SECRET',
    path: '$.flow.children[0].body',
    message: /secrets may be used in headers only/,
  },
  {
    label: 'a rebind of an argument the task does not take',
    input: linear(noop('a', { rebind: { size: 'volumeSize' } })),
    code: 'INVALID_DEFINITION',
    path: '$.flow.children[0]',
    message: /rebinds "size", which is neither required nor optional/,
  },
  {
    label: 'a worker task on a service that has no worker queue',
    input: linear({ type: 'worker', name: 'resize', taskType: 'images.resize' }),
    code: 'INVALID_DEFINITION',
    path: '$.flow.children[0].type',
    message: /this service has no queue for worker tasks/,
  },
  {
    label: 'an injected value that is no argument',
    input: linear(noop('a', { inject: { size: 1 } })),
    code: 'INVALID_DEFINITION',
    path: '$.flow.children[0].inject.size',
    message: /"size" is injected but is not an argument of "a"/,
  },
];

function issuesOf(input: unknown): DocumentError['issues'] {
  try {
    compileDocument(typeof input === 'string' ? parseDocumentText(input) : input, environment);
  } catch (error) {
    assert.ok(error instanceof DocumentError, `expected a DocumentError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('the document was accepted');
}

describe('bad flow documents', () => {
  for (const bad of CASES) {
    it(`are refused for ${bad.label}, at its JSON path`, () => {
      const issues = issuesOf(bad.input);
      const issue = issues.find((i) => i.code === bad.code && i.path === bad.path);
      assert.ok(issue, `no ${bad.code} at ${bad.path} among ${JSON.stringify(issues, null, 1)}`);
      assert.match(issue.message, bad.message);
    });
  }

  it('report every problem at once', () => {
    const issues = issuesOf(
      document({
        type: 'graph',
        children: [
          noop('a'),
          noop('a'),
          http({ url: 'https://elsewhere.example/x' }),
          { type: 'sleep', name: 's', durationMs: -1 },
        ],
        links: [{ from: 'a', to: 'nowhere', when: '(' }],
      }),
    );
    // The schema goes first: a document of the wrong shape is not compiled further.
    assert.deepEqual(
      issues.map((i) => [i.code, i.path]),
      [['SCHEMA', '$.flow.children[3].durationMs']],
    );
    const compiled = issuesOf(
      document({
        type: 'graph',
        children: [noop('a'), noop('a'), http({ url: 'https://elsewhere.example/x' })],
        links: [{ from: 'a', to: 'nowhere', when: '(' }],
      }),
    );
    assert.deepEqual(
      compiled.map((i) => [i.code, i.path]),
      [
        ['DUPLICATE_NAME', '$.flow.children[1].name'],
        ['HOST_NOT_ALLOWED', '$.flow.children[2].url'],
        ['UNKNOWN_LINK', '$.flow.links[0].to'],
        ['EXPRESSION', '$.flow.links[0].when'],
      ],
    );
  });

  it('are not stored', async () => {
    const store = createMemoryDefinitionStore();
    const registry = await DefinitionRegistry.open({ store, conditions });
    for (const bad of CASES) {
      if (typeof bad.input === 'string') continue;
      await assert.rejects(registry.put(bad.input), DocumentError);
    }
    assert.deepEqual(await store.list(), []);
  });
});
