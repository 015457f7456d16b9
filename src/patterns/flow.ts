import { Atom } from '../core/atom.ts';
import { TaskFlowError } from '../core/errors.ts';
import { Retry } from '../core/retry.ts';

/** What a flow holds: atoms and other flows, nested to any depth. */
export type FlowChild = Atom | Flow;

/** The three patterns a flow can follow. */
export type FlowKind = 'linear' | 'unordered' | 'graph';

/**
 * Options every flow takes.
 *
 * @example
 * linearFlow('deploy', [build, ship], { retry: new Times({ name: 'again', attempts: 3 }) });
 */
export interface FlowOptions {
  /** The controller consulted when something inside this flow fails; it runs before the children. */
  readonly retry?: Retry | undefined;
}

/**
 * A pattern holding atoms and flows. Flows are immutable: `add` returns a new flow.
 */
export abstract class Flow {
  abstract readonly kind: FlowKind;
  readonly name: string;
  readonly children: readonly FlowChild[];
  readonly retry: Retry | undefined;
  #requires: readonly string[] | undefined;
  #provides: readonly string[] | undefined;
  #providers: Map<string, number[]> | undefined;

  constructor(name: string, children: readonly FlowChild[], options: FlowOptions) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TaskFlowError('INVALID_DEFINITION', 'A flow needs a non-empty name.');
    }
    for (const child of children) {
      if (!(child instanceof Atom) && !(child instanceof Flow)) {
        throw new TaskFlowError(
          'INVALID_DEFINITION',
          `Flow "${name}" was given ${String(child)} as a child; children must be tasks or flows.`,
        );
      }
    }
    if (options.retry !== undefined && !(options.retry instanceof Retry)) {
      throw new TaskFlowError(
        'INVALID_DEFINITION',
        `Flow "${name}" was given a "retry" that is not a Retry.`,
      );
    }
    this.name = name;
    this.children = Object.freeze([...children]);
    this.retry = options.retry;
  }

  /** Symbols the flow needs from outside (the store or an enclosing flow). */
  get requires(): readonly string[] {
    this.#requires ??= Object.freeze([...this.externalRequirements()]);
    return this.#requires;
  }

  /** Symbols some atom inside the flow provides. */
  get provides(): readonly string[] {
    if (!this.#provides) {
      const all = new Set<string>(this.retry?.providedSymbols ?? []);
      for (const child of this.children) for (const symbol of providedBy(child)) all.add(symbol);
      this.#provides = Object.freeze([...all]);
    }
    return this.#provides;
  }

  /** Positions of the children that provide `symbol` (atoms, or flows with such an atom), ascending. */
  childrenProviding(symbol: string): readonly number[] {
    if (!this.#providers) {
      const index = new Map<string, number[]>();
      const { children } = this;
      for (let position = 0; position < children.length; position++) {
        for (const provided of providedBy(children[position] as FlowChild)) {
          const list = index.get(provided);
          if (list) list.push(position);
          else index.set(provided, [position]);
        }
      }
      this.#providers = index;
    }
    return this.#providers.get(symbol) ?? NONE;
  }

  /** Returns a new flow with `children` appended. */
  abstract add(...children: FlowChild[]): Flow;

  protected abstract externalRequirements(): Set<string>;

  /** The requirements of the retry, which runs before every child and sees none of them. */
  protected retryRequirements(): Set<string> {
    return new Set(this.retry?.requiredSymbols ?? []);
  }
}

const NONE: readonly number[] = Object.freeze([]);

/** Symbols a child (atom or flow) provides. */
export function providedBy(child: FlowChild): readonly string[] {
  return child instanceof Flow ? child.provides : child.providedSymbols;
}

/** Symbols a child (atom or flow) needs from outside itself. */
export function requiredBy(child: FlowChild): readonly string[] {
  return child instanceof Flow ? child.requires : child.requiredSymbols;
}
