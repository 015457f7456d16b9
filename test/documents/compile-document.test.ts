import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import {
  compileDocument,
  FLOW_DOCUMENT_FORMAT,
  flowDocumentJsonSchema,
  parseDocumentText,
  WorkerConditionEvaluator,
} from '../../src/documents/index.ts';
import { Engine, GraphFlow, LinearFlow, UnorderedFlow } from '../../src/index.ts';

const conditions = new WorkerConditionEvaluator();
after(() => conditions.close());
const environment = { http: { allowHosts: [], secrets: {} }, conditions };

/** Nested patterns, a retry, links with conditions, and every way an argument is fed. */
const ORDER = {
  format: FLOW_DOCUMENT_FORMAT,
  name: 'order',
  version: '1',
  description: 'checks a volume and upgrades it when outdated',
  inputs: ['customer'],
  flow: {
    type: 'linear',
    retry: { type: 'times', name: 'order-retry', attempts: 2, provides: 'attempt' },
    children: [
      {
        type: 'noop',
        name: 'lookup',
        requires: ['customer'],
        provides: 'account',
        result: 'acc-1',
      },
      {
        type: 'graph',
        name: 'maintain',
        children: [
          { type: 'noop', name: 'check', provides: 'status', result: { state: 'outdated' } },
          { type: 'noop', name: 'upgrade', provides: 'upgraded', result: true },
          { type: 'noop', name: 'archive', provides: 'archived', result: true },
          {
            type: 'noop',
            name: 'after-archive',
            requires: ['archived'],
            provides: 'cleaned',
            result: 1,
          },
        ],
        links: [
          { from: 'check', to: 'upgrade', when: "$result.state = 'outdated'" },
          { from: 'check', to: 'archive', when: 'check.state = "retired"', depth: 'FLOW' },
        ],
      },
      {
        type: 'unordered',
        name: 'notify',
        children: [
          {
            type: 'noop',
            name: 'mail',
            requires: ['to', 'account'],
            rebind: { to: 'customer' },
            optional: { subject: 'done' },
            provides: 'mailed',
            result: 'sent',
          },
          {
            type: 'sleep',
            name: 'settle',
            durationMs: 1,
            inject: { reason: 'x' },
            optional: { reason: null },
          },
        ],
      },
    ],
  },
};

describe('flow documents', () => {
  it('compile into the library flows they describe, nested, with the retry attached', () => {
    const { flow, document } = compileDocument(ORDER, environment);
    assert.ok(flow instanceof LinearFlow);
    assert.equal(flow.name, 'order');
    assert.equal(flow.retry?.name, 'order-retry');
    const [lookup, maintain, notify] = flow.children;
    assert.equal(lookup?.name, 'lookup');
    assert.ok(maintain instanceof GraphFlow);
    assert.ok(notify instanceof UnorderedFlow);
    assert.deepEqual(flow.requires, ['customer']);
    assert.equal(document.description, ORDER.description);
    const mail = notify.children[0];
    assert.ok(mail !== undefined && !('children' in mail));
    assert.deepEqual(
      mail.arguments.map((a) => [a.arg, a.symbol, a.optional, a.defaultValue]),
      [
        ['to', 'customer', false, undefined],
        ['account', 'account', false, undefined],
        ['subject', 'subject', true, 'done'],
      ],
    );
  });

  it('run as the engine runs code flows: a false condition ignores its target and what follows', async () => {
    const { flow } = compileDocument(ORDER, environment);
    const engine = new Engine(flow, { store: { customer: 'c-7' } });
    const result = await engine.run();
    assert.equal(result.state, 'SUCCESS');
    const states = Object.fromEntries(engine.atoms().map((a) => [a.name, a.state]));
    assert.deepEqual(states, {
      'order-retry': 'SUCCESS',
      lookup: 'SUCCESS',
      check: 'SUCCESS',
      upgrade: 'SUCCESS',
      archive: 'IGNORE',
      'after-archive': 'IGNORE',
      mail: 'SUCCESS',
      settle: 'SUCCESS',
    });
    assert.equal(engine.outputs().mailed, 'sent');
    assert.equal(engine.outputs().attempt, 1);
  });

  it('retry their flow as the retry says, then revert it', async () => {
    const document = {
      format: FLOW_DOCUMENT_FORMAT,
      name: 'stubborn',
      version: '1',
      flow: {
        type: 'linear',
        retry: { type: 'forEach', name: 'zones', values: ['a', 'b', 'c'], provides: 'zone' },
        children: [
          { type: 'noop', name: 'pick', requires: ['zone'], provides: 'picked' },
          // Times out every time: a failure like any other.
          { type: 'sleep', name: 'wait', durationMs: 60_000, timeoutMs: 5 },
        ],
      },
    };
    const zones: unknown[] = [];
    const engine = new Engine(compileDocument(document, environment).flow, {
      listeners: [
        (event) => {
          if (event.type === 'atom' && event.atom === 'pick' && event.to === 'RUNNING') {
            zones.push(engine.fetch('zone'));
          }
        },
      ],
    });
    await assert.rejects(engine.run(), /did not finish within its timeout of 5 ms/);
    assert.equal(engine.state, 'REVERTED');
    assert.deepEqual(zones, ['a', 'b', 'c']);
  });

  it('read the same from YAML as from JSON', () => {
    const fromYaml = compileDocument(parseDocumentText(stringify(ORDER)), environment);
    assert.deepEqual(fromYaml.document, compileDocument(ORDER, environment).document);
  });

  it('have a JSON Schema that names every pattern, task type and retry', () => {
    const schema = flowDocumentJsonSchema();
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    const text = JSON.stringify(schema);
    for (const type of [
      'linear',
      'unordered',
      'graph',
      'http',
      'noop',
      'sleep',
      'times',
      'forEach',
    ]) {
      assert.ok(text.includes(`"const":"${type}"`), `the schema lacks type ${type}`);
    }
    assert.deepEqual(
      (schema.properties as Record<string, { const?: string }>).format?.const,
      FLOW_DOCUMENT_FORMAT,
    );
  });
});
