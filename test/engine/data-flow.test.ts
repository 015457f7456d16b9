import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Engine, graphFlow, linearFlow, runFlow, task, unorderedFlow } from '../../src/index.ts';

const provide = (name: string, symbol: string, value: unknown) =>
  task({ name, provides: symbol, execute: () => value });
const consume = (name: string, symbol: string, seen: unknown[]) =>
  task({
    name,
    requires: [symbol],
    execute: (inputs: Record<string, unknown>) => void seen.push(inputs[symbol]),
  });

describe('data flow between atoms', () => {
  test('the nearest earlier provider wins, an inner level before an outer one', async () => {
    const seen: unknown[] = [];
    await runFlow(
      linearFlow('f', [
        provide('a', 'x', 1),
        linearFlow('inner', [provide('b', 'x', 2), consume('c', 'x', seen)]),
      ]),
    );
    await runFlow(
      linearFlow('g', [provide('a', 'x', 1), provide('b', 'x', 2), consume('c', 'x', seen)]),
    );
    await runFlow(
      linearFlow('h', [
        provide('a', 'x', 1),
        linearFlow('inner', [provide('b', 'x', 2)]),
        consume('c', 'x', seen),
      ]),
    );
    assert.deepEqual(seen, [2, 2, 2]);
  });

  test('a visible producer wins over the store', async () => {
    const seen: unknown[] = [];
    await runFlow(linearFlow('f', [provide('a', 'x', 1), consume('c', 'x', seen)]), {
      store: { x: 99 },
    });
    assert.deepEqual(seen, [1]);
  });

  test('the store feeds what no producer provides, and results chain without a store', async () => {
    const outputs = await runFlow(
      linearFlow('f', [
        task({
          name: 'double',
          requires: ['n'],
          provides: 'twice',
          execute: ({ n }: { n: number }) => n * 2,
        }),
        task({
          name: 'inc',
          requires: ['twice'],
          provides: 'result',
          execute: ({ twice }: { twice: number }) => twice + 1,
        }),
      ]),
      { store: { n: 20 } },
    );
    assert.deepEqual(outputs, { twice: 40, result: 41 });
  });

  test('inject beats every producer and the store', async () => {
    const seen: unknown[] = [];
    const c = task({
      name: 'c',
      requires: ['x'],
      inject: { x: 'injected' },
      execute: ({ x }: { x: string }) => void seen.push(x),
    });
    await runFlow(linearFlow('f', [provide('a', 'x', 'produced'), c]), { store: { x: 'stored' } });
    assert.deepEqual(seen, ['injected']);
  });

  test('optional arguments take their default only when nothing provides them', async () => {
    const seen: unknown[] = [];
    const make = (name: string) =>
      task({
        name,
        optional: { retries: 3 },
        execute: ({ retries }: { retries: number }) => void seen.push(retries),
      });
    await runFlow(linearFlow('f', [make('alone')]));
    await runFlow(linearFlow('g', [make('from-store')]), { store: { retries: 5 } });
    await runFlow(linearFlow('h', [provide('p', 'retries', 7), make('from-producer')]));
    assert.deepEqual(seen, [3, 5, 7]);
  });

  test('rebind reads an argument from another symbol', async () => {
    const outputs = await runFlow(
      linearFlow('f', [
        task({
          name: 'size',
          requires: ['size'],
          rebind: { size: 'volumeSize' },
          provides: 'gb',
          execute: ({ size }: { size: number }) => size,
        }),
      ]),
      { store: { volumeSize: 8 } },
    );
    assert.deepEqual(outputs, { gb: 8 });
  });

  test('provides can name array positions and object keys', async () => {
    const outputs = await runFlow(
      linearFlow('f', [
        task({ name: 'dims', provides: ['width', 'height'], execute: () => [3, 4] }),
        task({
          name: 'vol',
          provides: { id: 'volumeId', size: 'volumeSize' },
          execute: () => ({ id: 'v1', size: 10 }),
        }),
        task({
          name: 'area',
          requires: ['width', 'height', 'volumeId'],
          provides: 'area',
          execute: ({
            width,
            height,
            volumeId,
          }: {
            width: number;
            height: number;
            volumeId: string;
          }) => `${volumeId}:${width * height}`,
        }),
      ]),
    );
    assert.deepEqual(outputs, {
      width: 3,
      height: 4,
      volumeId: 'v1',
      volumeSize: 10,
      area: 'v1:12',
    });
  });

  test('siblings in an unordered flow never see each other', async () => {
    const flow = unorderedFlow('u', [provide('a', 'x', 1), consume('c', 'x', [])]);
    assert.throws(() => new Engine(flow).compile(), /"c" requires "x"/);
  });

  test('a flow reports the symbols it needs from outside and those it provides', () => {
    const flow = linearFlow('f', [
      task({ name: 'a', requires: ['input'], provides: 'mid', execute: () => 1 }),
      graphFlow('g', [
        task({ name: 'b', requires: ['mid', 'other'], provides: 'out', execute: () => 2 }),
      ]),
      unorderedFlow('u', [task({ name: 'c', requires: ['out'], execute: () => 3 })]),
    ]);
    assert.deepEqual([...flow.requires].sort(), ['input', 'other']);
    assert.deepEqual([...flow.provides].sort(), ['mid', 'out']);
    assert.deepEqual(
      [...unorderedFlow('u2', [provide('a', 'x', 1), consume('c', 'x', [])]).requires],
      ['x'],
    );
  });
});
