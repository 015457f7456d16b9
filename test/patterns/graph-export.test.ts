import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { graphFlow, linearFlow, Times, task, unorderedFlow } from '../../src/index.ts';
import { toDot, toMermaid } from '../../src/patterns/graph-export.ts';

const noop = (name: string, options: { provides?: string; requires?: readonly string[] } = {}) =>
  task({
    name,
    ...(options.provides === undefined ? {} : { provides: options.provides }),
    ...(options.requires === undefined ? {} : { requires: options.requires }),
    execute: () => name,
  });

/** lf[a, uf(retry r)[u1, u2], gf[c needs x, b provides x, d], lf empty] with a decider link b → d. */
function nestedFlow() {
  const graph = graphFlow('g', [
    noop('c', { requires: ['x'] }),
    noop('b', { provides: 'x' }),
    noop('d'),
  ]).link('b', 'd', {
    decider: () => true,
    depth: 'ATOM',
  });
  const unordered = unorderedFlow('u', [noop('u1'), noop('u2')], {
    retry: new Times({ name: 'r', attempts: 2 }),
  });
  return linearFlow('root', [noop('a'), unordered, graph, linearFlow('empty')]);
}

describe('graph export', () => {
  test('toDot writes clusters, labelled nodes, order and graph edges for a nested flow', () => {
    assert.equal(
      toDot(nestedFlow()),
      [
        'digraph "root" {',
        '  compound=true;',
        '  rankdir=TB;',
        '  node [shape=box];',
        '  subgraph "cluster_f0" {',
        '    label="linear: root";',
        '    "a0" [label="a\\n(task)"];',
        '    subgraph "cluster_f1" {',
        '      label="unordered: u";',
        '      "a1" [label="r\\n(retry)", shape=hexagon];',
        '      "a2" [label="u1\\n(task)"];',
        '      "a3" [label="u2\\n(task)"];',
        '    }',
        '    subgraph "cluster_f2" {',
        '      label="graph: g";',
        '      "a4" [label="c\\n(task)"];',
        '      "a5" [label="b\\n(task)"];',
        '      "a6" [label="d\\n(task)"];',
        '    }',
        '    subgraph "cluster_f3" {',
        '      label="linear: empty";',
        '      "f3" [shape=point, style=invis, label=""];',
        '    }',
        '  }',
        '  "a0" -> "a1" [lhead="cluster_f1"];',
        '  "a1" -> "a4" [ltail="cluster_f1", lhead="cluster_f2"];',
        '  "a4" -> "f3" [ltail="cluster_f2", lhead="cluster_f3"];',
        '  "a1" -> "a2";',
        '  "a1" -> "a3";',
        '  "a5" -> "a4" [label="x"];',
        '  "a5" -> "a6" [label="decider: ATOM", style=dashed];',
        '}',
        '',
      ].join('\n'),
    );
  });

  test('toMermaid writes subgraphs, labelled nodes, order and graph edges for a nested flow', () => {
    assert.equal(
      toMermaid(nestedFlow(), { direction: 'LR' }),
      [
        'flowchart LR',
        '  subgraph f0 ["linear: root"]',
        '    a0["a (task)"]',
        '    subgraph f1 ["unordered: u"]',
        '      a1{{"r (retry)"}}',
        '      a2["u1 (task)"]',
        '      a3["u2 (task)"]',
        '    end',
        '    subgraph f2 ["graph: g"]',
        '      a4["c (task)"]',
        '      a5["b (task)"]',
        '      a6["d (task)"]',
        '    end',
        '    subgraph f3 ["linear: empty"]',
        '    end',
        '  end',
        '  a0 --> f1',
        '  f1 --> f2',
        '  f2 --> f3',
        '  a1 --> a2',
        '  a1 --> a3',
        '  a5 -->|"x"| a4',
        '  a5 -.->|"decider: ATOM"| a6',
        '',
      ].join('\n'),
    );
  });

  test('a retry runs before the graph children that wait for nothing else', () => {
    const flow = graphFlow(
      'g',
      [noop('p', { provides: 'x' }), noop('q', { requires: ['x'] }), noop('s')],
      {
        retry: new Times({ name: 'r', attempts: 3 }),
      },
    );
    const edges = toMermaid(flow)
      .split('\n')
      .filter((line) => line.includes('-->'));
    assert.deepEqual(edges, ['  a1 -->|"x"| a2', '  a0 --> a1', '  a0 --> a3']);
  });

  test('names with quotes, backslashes and line breaks are escaped in DOT', () => {
    const flow = linearFlow('say "hi"', [noop('a "quoted" \\ name'), noop('two\nlines')]);
    const dot = toDot(flow);
    assert.ok(dot.startsWith('digraph "say \\"hi\\"" {\n'));
    assert.ok(dot.includes('label="linear: say \\"hi\\"";'));
    assert.ok(dot.includes('"a0" [label="a \\"quoted\\" \\\\ name\\n(task)"];'));
    assert.ok(dot.includes('"a1" [label="two\\nlines\\n(task)"];'));
  });

  test('names with quotes and markup characters are written as Mermaid entity codes', () => {
    const flow = linearFlow('say "hi"', [noop('<b>#1 & "two" | `x`</b>')]);
    const mermaid = toMermaid(flow);
    assert.ok(mermaid.includes('subgraph f0 ["linear: say #quot;hi#quot;"]'));
    assert.ok(
      mermaid.includes(
        'a0["#lt;b#gt;#35;1 #amp; #quot;two#quot; #124; #96;x#96;#lt;/b#gt; (task)"]',
      ),
    );
  });

  test('the same flow always exports the same text', () => {
    assert.equal(toDot(nestedFlow()), toDot(nestedFlow()));
    assert.equal(toMermaid(nestedFlow()), toMermaid(nestedFlow()));
  });
});
