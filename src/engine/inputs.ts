import { TaskFlowError } from '../core/errors.ts';
import type { RunContext } from './run-context.ts';

/** An atom is about to run but a value it requires is nowhere to be found. */
export class MissingInputError extends TaskFlowError {
  constructor(atom: string, symbol: string) {
    super(
      'MISSING_INPUT',
      `Atom "${atom}" requires "${symbol}", but no atom that ran provides it (its provider may have been ignored by a decider) and the store lacks it; make "${symbol}" optional or give it in the store.`,
    );
  }
}

/**
 * The arguments of an atom, by argument name: `inject` first, then the nearest visible
 * producer, then the store, then the optional default. With `lenient` (for reverts) a missing
 * value is left undefined instead of failing.
 */
export function resolveInputs(
  ctx: RunContext,
  index: number,
  lenient: boolean,
): Record<string, unknown> {
  const record = ctx.records[index];
  if (!record) return {};
  const { atom } = record;
  // Argument names vary from atom to atom; a prototype-less object avoids building a hidden
  // class per distinct set of names, which dominated large graph runs.
  const inputs: Record<string, unknown> = Object.create(null);
  const nearest = ctx.argumentProviders[index];
  const { arguments: args, injected } = atom;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as (typeof args)[number];
    if (Object.hasOwn(injected, arg.arg)) {
      inputs[arg.arg] = injected[arg.arg];
      continue;
    }
    const found = lookup(ctx, index, arg.symbol, nearest?.[i]);
    if (found) inputs[arg.arg] = found.value;
    else if (Object.hasOwn(ctx.store, arg.symbol)) inputs[arg.arg] = ctx.store[arg.symbol];
    else if (arg.optional) inputs[arg.arg] = arg.defaultValue;
    else if (!lenient) throw new MissingInputError(atom.name, arg.symbol);
  }
  return inputs;
}

function lookup(
  ctx: RunContext,
  index: number,
  symbol: string,
  nearest: readonly number[] | undefined,
): { value: unknown } | undefined {
  if (nearest) {
    const found = visibleValue(ctx, nearest, symbol);
    if (found) return found;
  }
  // Slow path: the nearest provider has no visible result (ignored, or not validated yet).
  let skipFirst = nearest !== undefined;
  for (const group of ctx.providers.groups(index, symbol)) {
    if (skipFirst) {
      skipFirst = false;
      continue;
    }
    const found = visibleValue(ctx, group, symbol);
    if (found) return found;
  }
  return undefined;
}

function visibleValue(
  ctx: RunContext,
  group: readonly number[],
  symbol: string,
): { value: unknown } | undefined {
  for (const provider of group) {
    const record = ctx.records[provider];
    if (record?.state === 'SUCCESS' && record.hasResult)
      return { value: record.atom.valueOf(symbol, record.result) };
  }
  return undefined;
}
