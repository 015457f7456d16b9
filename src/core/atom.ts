import { TaskFlowError } from './errors.ts';
import type { AtomKind } from './states.ts';

/** Named inputs of an atom: argument name → value. */
export type Inputs = Record<string, unknown>;

/**
 * How an atom's result is published as symbols:
 * - a string names the whole result;
 * - an array names the positions of an array result (`['width', 'height']`);
 * - an object maps keys of an object result to symbol names (`{ id: 'volumeId' }`).
 */
export type ProvidesSpec<Out> =
  | string
  | readonly string[]
  | { readonly [K in keyof Out & string]?: string };

/**
 * Options shared by every atom (tasks and retries). The input type is inferred from the
 * atom's code only (`NoInfer`): these options are checked against it, never widen it.
 */
export interface AtomOptions<In extends Inputs> {
  /** Unique across the whole flow, nesting included; persisted details are matched by it. */
  readonly name: string;
  /** Arguments that must be supplied, by name. */
  readonly requires?: readonly (keyof NoInfer<In> & string)[];
  /** Arguments that may be absent, with the value used when nothing supplies them. */
  readonly optional?: { readonly [K in keyof NoInfer<In>]?: NoInfer<In>[K] };
  /** Reads an argument from a differently named symbol: `{ size: 'volumeSize' }`. */
  readonly rebind?: { readonly [K in keyof NoInfer<In>]?: string };
  /** Constant inputs of this atom only; they beat every producer and the store. */
  readonly inject?: { readonly [K in keyof NoInfer<In>]?: NoInfer<In>[K] };
  /** Among atoms ready at the same moment, higher runs first. Default 0. */
  readonly priority?: number;
  /** Recorded with the atom's details; a resumed run refuses a mismatch unless allowed. */
  readonly version?: string;
}

/** Where one argument of an atom comes from. */
export interface ArgumentSource {
  readonly arg: string;
  readonly symbol: string;
  readonly optional: boolean;
  readonly defaultValue: unknown;
}

/**
 * Anything the engine schedules: a task or a retry. Immutable once built.
 */
export abstract class Atom<In extends Inputs = Inputs, Out = unknown> {
  abstract readonly kind: AtomKind;
  readonly name: string;
  readonly priority: number;
  readonly version: string;
  /** Argument → symbol, for required and optional arguments alike (rebind applied). */
  readonly arguments: readonly ArgumentSource[];
  readonly injected: Readonly<Record<string, unknown>>;
  readonly provides: ProvidesSpec<Out> | undefined;
  /** The symbols this atom publishes, derived from `provides`. */
  readonly providedSymbols: readonly string[];
  /** Symbols this atom needs from producers or the store (injected arguments excluded). */
  readonly requiredSymbols: readonly string[];

  constructor(options: AtomOptions<In> & { readonly provides?: ProvidesSpec<Out> | undefined }) {
    if (typeof options.name !== 'string' || options.name.length === 0) {
      throw new TaskFlowError(
        'INVALID_DEFINITION',
        'An atom needs a non-empty "name"; give each task and retry a unique name.',
      );
    }
    this.name = options.name;
    this.priority = options.priority ?? 0;
    this.version = options.version ?? '1.0';
    // Every name map is read by own property only: names such as "constructor" or "__proto__"
    // are ordinary symbol and argument names, never members of Object.prototype.
    this.injected = options.inject ? { ...options.inject } : NO_VALUES;
    this.provides = options.provides;
    this.providedSymbols = symbolsOf(options.name, options.provides);
    // Plain loops: flows of many thousands of atoms are built in one go, and this runs per atom.
    const rebind = (options.rebind ?? NO_VALUES) as Readonly<Record<string, string | undefined>>;
    const optional = (options.optional ?? NO_VALUES) as Readonly<Record<string, unknown>>;
    const symbolOf = (arg: string): string => {
      const bound = Object.hasOwn(rebind, arg) ? rebind[arg] : undefined;
      return bound ?? arg;
    };
    const args: ArgumentSource[] = [];
    const required: string[] = [];
    for (const arg of options.requires ?? []) {
      if (Object.hasOwn(optional, arg)) {
        throw new TaskFlowError(
          'INVALID_DEFINITION',
          `Atom "${options.name}" lists "${arg}" both in "requires" and "optional"; keep it in one of them.`,
        );
      }
      const symbol = symbolOf(arg);
      args.push({ arg, symbol, optional: false, defaultValue: undefined });
      if (!Object.hasOwn(this.injected, arg)) required.push(symbol);
    }
    for (const arg of Object.keys(optional)) {
      args.push({ arg, symbol: symbolOf(arg), optional: true, defaultValue: optional[arg] });
    }
    for (const arg of Object.keys(rebind)) {
      if (!args.some((a) => a.arg === arg)) {
        throw new TaskFlowError(
          'INVALID_DEFINITION',
          `Atom "${options.name}" rebinds "${arg}", which is neither required nor optional; add it to "requires" or remove the rebind.`,
        );
      }
    }
    this.arguments = args;
    this.requiredSymbols = required;
  }

  /** The value of `symbol` within a result of this atom. */
  valueOf(symbol: string, result: unknown): unknown {
    const spec = this.provides;
    if (spec === undefined) return undefined;
    if (typeof spec === 'string') return result;
    if (Array.isArray(spec)) {
      const index = spec.indexOf(symbol);
      if (!Array.isArray(result)) {
        throw new TaskFlowError(
          'BAD_RESULT',
          `Atom "${this.name}" provides positions [${spec.join(', ')}] but returned ${describeValue(result)}; return an array or provide one name.`,
        );
      }
      return result[index];
    }
    const entries = Object.entries(spec as Record<string, string | undefined>);
    const key = entries.find(([, name]) => name === symbol)?.[0];
    if (typeof result !== 'object' || result === null || key === undefined) {
      throw new TaskFlowError(
        'BAD_RESULT',
        `Atom "${this.name}" provides keys of an object but returned ${describeValue(result)}; return an object or provide one name.`,
      );
    }
    return Object.hasOwn(result, key) ? (result as Record<string, unknown>)[key] : undefined;
  }
}

/**
 * Why `result` cannot be published as the atom's `provides` say, as the error the atom fails
 * with, or undefined when it can: an array spec needs an array with a value at every named
 * position, an object spec an object with every named key (own properties only). A string spec
 * or none accepts any result. Called where a result is accepted, so a short result fails its
 * atom (which is then reverted like any failure) instead of leaving symbols missing.
 *
 * @example
 * checkResultShape(task({ name: 'size', provides: ['w', 'h'], execute: () => [1] }), [1]);
 * // TaskFlowError BAD_RESULT: Atom "size" provides "h" at position 1, but returned an array of 1 ...
 */
export function checkResultShape(atom: Atom, result: unknown): Error | undefined {
  const spec = atom.provides;
  if (spec === undefined || typeof spec === 'string') return undefined;
  if (Array.isArray(spec)) {
    const names: readonly string[] = spec;
    if (!Array.isArray(result)) {
      return new TaskFlowError(
        'BAD_RESULT',
        `Atom "${atom.name}" provides positions [${names.join(', ')}] but returned ${describeValue(result)}; return an array of ${names.length} values or provide one name.`,
      );
    }
    if (result.length >= names.length) return undefined;
    const missing = names
      .slice(result.length)
      .map((name, i) => `"${name}" at position ${result.length + i}`);
    return new TaskFlowError(
      'BAD_RESULT',
      `Atom "${atom.name}" provides ${missing.join(', ')}, but returned an array of ${result.length}; return ${names.length} values or remove the missing names from "provides".`,
    );
  }
  const entries = Object.entries(spec as Record<string, string | undefined>).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  if (typeof result !== 'object' || result === null) {
    return new TaskFlowError(
      'BAD_RESULT',
      `Atom "${atom.name}" provides keys ${entries.map(([key]) => `"${key}"`).join(', ')} of an object but returned ${describeValue(result)}; return an object or provide one name.`,
    );
  }
  const missing = entries.filter(([key]) => !Object.hasOwn(result, key));
  if (missing.length === 0) return undefined;
  const listed = missing.map(([key, symbol]) => `key "${key}" (for "${symbol}")`).join(', ');
  return new TaskFlowError(
    'BAD_RESULT',
    `Atom "${atom.name}" returned an object without ${listed}; return every key named in "provides" or remove the missing ones.`,
  );
}

// Name maps stay plain objects (they are public and compared as such) but are only ever read
// by own property, so a name like "constructor" never finds Object.prototype's member.
const NO_VALUES: Readonly<Record<string, never>> = Object.freeze({});

function symbolsOf(name: string, spec: ProvidesSpec<unknown> | undefined): readonly string[] {
  if (spec === undefined) return [];
  if (typeof spec === 'string') return [spec];
  const symbols = Array.isArray(spec) ? [...spec] : Object.values(spec as Record<string, string>);
  const seen = new Set<string>();
  for (const symbol of symbols) {
    if (typeof symbol !== 'string' || symbol.length === 0) {
      throw new TaskFlowError(
        'INVALID_DEFINITION',
        `Atom "${name}" has an empty or non-string name in "provides".`,
      );
    }
    if (seen.has(symbol)) {
      throw new TaskFlowError(
        'INVALID_DEFINITION',
        `Atom "${name}" provides "${symbol}" twice; give each provided value its own name.`,
      );
    }
    seen.add(symbol);
  }
  return symbols;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
