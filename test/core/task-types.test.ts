import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AtomContext, linearFlow, runFlow, Task, task } from '../../src/index.ts';

// These checks run at compile time (`npm run typecheck` fails when an expected error is missing);
// the tests below make sure the same definitions also behave at run time.

class Resize extends Task<{ size: number }, number> {
  constructor() {
    super({ name: 'resize', requires: ['size'], provides: 'resized' });
  }
  execute({ size }: { size: number }, _context: AtomContext): number {
    return size * 2;
  }
}

describe('typed tasks', () => {
  test('a task declared to take a number cannot be given a function reading it as a string', () => {
    task<{ size: number }, number>({
      name: 'bad',
      requires: ['size'],
      // @ts-expect-error size is a number, not a string
      execute: ({ size }: { size: string }) => size.length,
    });
    class Bad extends Task<{ size: number }, number> {
      // @ts-expect-error the class form is checked the same way
      execute({ size }: { size: string }): number {
        return size.length;
      }
    }
    assert.equal(typeof Bad, 'function');
  });

  test('requires, inject and provides keys are checked against the declared types', () => {
    const readSize = ({ size }: { size: number }) => size;
    // @ts-expect-error "sise" is not an argument of this task
    const typo = task({ name: 'typo', requires: ['sise'], execute: readSize });
    const injected = task({
      name: 'i',
      requires: ['size'],
      // @ts-expect-error an injected value must have the argument's type
      inject: { size: 'big' },
      execute: readSize,
    });
    // @ts-expect-error object provides must name keys of the result
    const keyed = task({ name: 'keys', provides: { missing: 'x' }, execute: () => ({ id: 1 }) });
    // The checks are static; at run time the same definitions are taken as written.
    assert.deepEqual(typo.requiredSymbols, ['sise']);
    assert.deepEqual(injected.injected, { size: 'big' });
    assert.deepEqual(keyed.providedSymbols, ['x']);
  });

  test('the class and function forms run with their inputs typed end to end', async () => {
    const double = task({
      name: 'double',
      requires: ['resized'],
      provides: 'doubled',
      execute: ({ resized }: { resized: number }) => resized * 2,
    });
    const outputs = await runFlow(linearFlow('f', [new Resize(), double]), { store: { size: 5 } });
    assert.deepEqual(outputs, { resized: 10, doubled: 20 });
  });

  test('input and output types come from execute even when its context is not annotated', async () => {
    const price = task({
      name: 'price',
      requires: ['shop', 'product'],
      inject: { shop: 'main' },
      provides: 'price',
      execute: async (inputs: { shop: string; product: string }, { signal }) =>
        signal.aborted ? 0 : `${inputs.shop}:${inputs.product.length}`,
    });
    const outputs = await runFlow(linearFlow('f', [price]), { store: { product: 'abc' } });
    assert.deepEqual(outputs, { price: 'main:3' });
  });
});
