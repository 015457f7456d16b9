import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import elkBundled from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkApi } from 'elkjs/lib/elk-api.js';
import { Api } from '../../dashboard/src/api/client.ts';
import { followEvents } from '../../dashboard/src/api/event-stream.ts';
import type { FlowGraph, RunChange } from '../../dashboard/src/api/types.ts';
import { checkInputs, initialText, inputFields } from '../../dashboard/src/flows/run-inputs.ts';
import { summaryState } from '../../dashboard/src/graph/atom-states.ts';
import {
  COLLAPSE_ABOVE_ATOMS,
  initialCollapse,
  layoutFlow,
} from '../../dashboard/src/graph/layout.ts';
import { href, parseRoute } from '../../dashboard/src/routes.ts';
import { attemptsOf } from '../../dashboard/src/runs/attempts.ts';
import { graphFlow, linearFlow, task, unorderedFlow } from '../../src/index.ts';
import { toGraph } from '../../src/patterns/graph-export.ts';
import { bigFlow } from './fixtures/dashboard-flows.ts';

// The dashboard's logic that needs no browser: form checks, attempts read from events, routes,
// the layout of nested flows, and the event stream's reconnection.

// ELK's bundle is CommonJS: its default import is the constructor, which its types call `default`.
const ELK = elkBundled as unknown as new () => ElkApi;

const change = (id: number, atom: string | null, state: string, at: number): RunChange => ({
  id: String(id),
  runId: 'r',
  atom,
  state,
  intention: null,
  progress: null,
  at,
});

describe('dashboard logic', () => {
  it('checks a start-run form as the API does: required inputs, JSON or text, no prototype keys', () => {
    const fields = inputFields(['size', 'name'], null);
    assert.deepEqual(checkInputs(fields, { values: { size: '10' }, extra: '' }), {
      ok: false,
      errors: { name: 'required by the flow' },
    });
    assert.deepEqual(
      checkInputs(fields, { values: { size: '10', name: 'web' }, extra: '{"failBoot": true}' }),
      { ok: true, inputs: { failBoot: true, size: 10, name: 'web' } },
    );
    assert.deepEqual(checkInputs(fields, { values: { size: 'null', name: '"7"' }, extra: '' }), {
      ok: true,
      inputs: { size: null, name: '7' },
    });
    const refused = checkInputs(inputFields(['size'], null), {
      values: { size: '1e999' },
      extra: '{"a": {"__proto__": {"x": 1}}}',
    });
    assert.deepEqual(!refused.ok && refused.errors, {
      extra: 'The key "__proto__" is not allowed.',
      size: 'Infinity is not a number JSON can store.',
    });
    assert.deepEqual(checkInputs([], { values: {}, extra: '[1]' }), {
      ok: false,
      errors: { extra: 'Extra inputs must be a JSON object, e.g. {"failBoot": true}.' },
    });
  });

  it("types and bounds the form's fields by the flow's input schema", () => {
    const fields = inputFields(['size'], {
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 100 },
        region: { enum: ['eu', 'us'], default: 'eu' },
        name: { type: 'string', pattern: '^[a-z]+$', maxLength: 8, description: 'the server' },
        fast: { type: 'boolean' },
      },
      required: ['name'],
    });
    assert.deepEqual(
      fields.map((f) => [f.name, f.kind, f.required, initialText(f)]),
      [
        ['size', 'integer', true, ''],
        ['region', 'choice', false, '"eu"'],
        ['name', 'string', true, ''],
        ['fast', 'boolean', false, ''],
      ],
    );
    const check = (values: Record<string, string>) => checkInputs(fields, { values, extra: '' });
    assert.deepEqual(check({ size: '3', region: '"us"', name: 'web', fast: 'true' }), {
      ok: true,
      inputs: { size: 3, region: 'us', name: 'web', fast: true },
    });
    assert.deepEqual(check({ size: '0', name: '123' }), {
      ok: false,
      errors: { size: 'must be at least 1', name: 'must match ^[a-z]+$' },
    });
    assert.deepEqual(check({ size: '2.5', name: 'waytoolongname', region: '"mars"' }), {
      ok: false,
      errors: {
        size: 'must be a whole number',
        region: 'must be one of "eu", "us"',
        name: 'must be at most 8 characters',
      },
    });
  });

  it('reads each execute and revert attempt from the events, progress included, open ones last', () => {
    const attempts = attemptsOf([
      change(1, null, 'RUNNING', 0),
      change(2, 'charge', 'RUNNING', 10),
      change(3, 'charge', 'RUNNING', 15),
      change(4, 'charge', 'FAILURE', 20),
      change(5, 'charge', 'REVERTING', 30),
      change(6, 'charge', 'REVERTED', 35),
      change(7, 'charge', 'PENDING', 36),
      change(8, 'charge', 'RUNNING', 50),
      change(9, 'charge', 'SUCCESS', 70),
      change(10, 'report', 'RUNNING', 80),
    ]);
    assert.deepEqual(
      attempts.map((a) => [a.atom, a.kind, a.number, a.start, a.end, a.outcome]),
      [
        ['charge', 'execute', 1, 10, 20, 'FAILURE'],
        ['charge', 'revert', 1, 30, 35, 'REVERTED'],
        ['charge', 'execute', 2, 50, 70, 'SUCCESS'],
        ['report', 'execute', 1, 80, undefined, 'RUNNING'],
      ],
    );
  });

  it('sums up a collapsed flow by its most urgent atom state', () => {
    assert.equal(summaryState(['SUCCESS', 'FAILURE', 'RUNNING']), 'FAILURE');
    assert.equal(summaryState(['SUCCESS', 'PENDING']), 'RUNNING');
    assert.equal(summaryState(['PENDING', 'PENDING']), 'PENDING');
    assert.equal(summaryState(['SUCCESS', 'IGNORE']), 'SUCCESS');
  });

  it('addresses pages by the URL fragment, atom names included', () => {
    for (const route of [
      { page: 'runs' },
      { page: 'run', id: 'a b/c', atom: undefined },
      { page: 'run', id: 'r1', atom: 'charge card' },
      { page: 'flows', name: 'provision' },
      { page: 'jobs' },
      { page: 'conductors' },
    ] as const) {
      assert.deepEqual(parseRoute(href(route)), { ...route });
    }
    assert.deepEqual(parseRoute('#/nowhere'), { page: 'runs' });
  });

  it('lays out nested flows as groups around their atoms, with labelled links', async () => {
    const flow = linearFlow('order', [
      unorderedFlow('pack', [
        task({ name: 'pick', execute: () => 1 }),
        task({ name: 'wrap', execute: () => 2 }),
      ]),
      graphFlow('ship', [
        task({ name: 'label', provides: 'address', execute: () => 'here' }),
        task({ name: 'send', requires: ['address'], execute: () => 'sent' }),
      ]),
    ]);
    const graph = toGraph(flow) as FlowGraph;
    const elk = new ELK();
    const layout = await layoutFlow(graph, new Set(), (g) => elk.layout(g));
    const box = (name: string) => {
      const node = layout.nodes.find((n) => n.name === name);
      assert.ok(node, `${name} is not drawn`);
      return node;
    };
    assert.deepEqual(
      layout.nodes.filter((n) => n.group).map((n) => n.name),
      ['pack', 'ship'],
    );
    for (const [group, atoms] of [
      ['pack', ['pick', 'wrap']],
      ['ship', ['label', 'send']],
    ] as const) {
      const outer = box(group);
      for (const name of atoms) {
        const inner = box(name);
        assert.ok(inner.x >= outer.x && inner.x + inner.width <= outer.x + outer.width, name);
        assert.ok(inner.y >= outer.y && inner.y + inner.height <= outer.y + outer.height, name);
      }
    }
    const labelled = layout.edges.find((e) => e.label === 'address');
    assert.ok(labelled?.labelAt, 'the address link has no placed label');
    assert.ok(layout.edges.every((e) => e.points.length >= 2));
  });

  it(`collapses the biggest nested flows of a big flow until at most ${COLLAPSE_ABOVE_ATOMS} atoms are drawn`, async () => {
    const graph = toGraph(bigFlow(20, 100)) as FlowGraph;
    const collapsed = initialCollapse(graph);
    assert.ok(collapsed.size > 0 && collapsed.size < 20);
    const elk = new ELK();
    const layout = await layoutFlow(graph, collapsed, (g) => elk.layout(g));
    const atoms = layout.nodes.filter((n) => !n.group && n.hidden === undefined).length;
    const folded = layout.nodes.filter((n) => n.hidden !== undefined);
    assert.equal(folded.length, collapsed.size);
    assert.ok(atoms + folded.length <= COLLAPSE_ABOVE_ATOMS, `${atoms} atoms drawn`);
    assert.equal(atoms + folded.reduce((sum, n) => sum + (n.hidden?.length ?? 0), 0), 2000);
    assert.equal(initialCollapse(toGraph(bigFlow(2, 100)) as FlowGraph).size, 0);
  });

  it('follows an event stream across a dropped connection with Last-Event-ID, losing and repeating nothing', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const event = (id: number) =>
        `id: ${id}\nevent: run\ndata: ${JSON.stringify(change(id, null, 'RUNNING', id))}\n\n`;
      if (seen.length === 1) response.end(`retry: 10\n\n${event(1)}${event(2)}`);
      else response.write(`: keep-alive\n\n${event(3)}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const received: string[] = [];
    const controller = new AbortController();
    const api = new Api({
      token: 'tfs_test',
      base: `http://127.0.0.1:${port}`,
      onUnauthorized: () => assert.fail('no 401 was sent'),
    });
    await new Promise<void>((resolve) => {
      void followEvents(api, {
        path: '/v1/events',
        signal: controller.signal,
        onEvents: (events) => {
          received.push(...events.map((e) => e.id));
          if (received.length === 3) resolve();
        },
      });
    });
    controller.abort();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    assert.deepEqual(received, ['1', '2', '3']);
    assert.equal(seen[0]?.authorization, 'Bearer tfs_test');
    assert.equal(seen[0]?.['last-event-id'], undefined);
    assert.equal(seen[1]?.['last-event-id'], '2');
  });
});
