import { TaskFlowError } from '../core/errors.ts';
import type { FlowRef } from '../core/flow-ref.ts';
import type { InputSchema } from '../core/input-schema.ts';
import type { Flow } from '../patterns/flow.ts';

/** Builds a flow by name, so a fresh process can rebuild the flow of a persisted run. */
export interface FlowFactory {
  readonly name: string;
  readonly version: string;
  /** Older versions whose runs this factory may continue (atoms are matched by name). */
  readonly resumes?: readonly string[];
  /**
   * A schema of the run's inputs (zod 4, valibot, ...: see {@link InputSchema}). The service
   * checks a run's inputs against it before storing anything, and publishes it with the flow
   * (as JSON Schema, for a zod schema).
   */
  readonly inputs?: InputSchema;
  build(store: Readonly<Record<string, unknown>>): Flow;
}

/**
 * The flows a process knows how to rebuild. A TypeScript program cannot re-import a flow by a
 * dotted name the way TaskFlow does, so runs record a factory name and version instead.
 *
 * @example
 * const registry = new FlowRegistry().register({
 *   name: 'provision', version: '2', resumes: ['1'], build: () => linearFlow('provision', [createVolume, bootServer]),
 * });
 * const engine = await resumeRun({ runs, flowId, registry });
 * await engine.run();
 */
export class FlowRegistry {
  readonly #factories = new Map<string, FlowFactory>();

  /** Adds a factory; a second one with the same name is refused. Returns the registry. */
  register(factory: FlowFactory): this {
    if (this.#factories.has(factory.name)) {
      throw new TaskFlowError(
        'DUPLICATE_FACTORY',
        `A flow factory named "${factory.name}" is already registered; give each factory its own name.`,
      );
    }
    this.#factories.set(factory.name, factory);
    return this;
  }

  /**
   * Every registered factory, in registration order: what a service lists as its flows.
   *
   * @example
   * registry.factories().map((f) => `${f.name}@${f.version}`); // ['provision@2']
   */
  factories(): readonly FlowFactory[] {
    return [...this.#factories.values()];
  }

  /** The reference a run records to find this factory again. */
  ref(name: string): FlowRef {
    const factory = this.#get(name);
    return { name: factory.name, version: factory.version };
  }

  /** Builds the flow a run recorded, refusing a version the factory does not say it can continue. */
  build(ref: FlowRef, store: Readonly<Record<string, unknown>>): Flow {
    const factory = this.#get(ref.name);
    if (ref.version !== factory.version && !(factory.resumes ?? []).includes(ref.version)) {
      throw new TaskFlowError(
        'VERSION_MISMATCH',
        `The run was started with flow "${ref.name}" version ${ref.version}, but this process has version ${factory.version}; list "${ref.version}" in the factory's "resumes" if it can continue such runs.`,
      );
    }
    return factory.build(store);
  }

  #get(name: string): FlowFactory {
    const factory = this.#factories.get(name);
    if (!factory) {
      const known = [...this.#factories.keys()].map((n) => `"${n}"`).join(', ') || 'none';
      throw new TaskFlowError(
        'UNKNOWN_FACTORY',
        `No flow factory named "${name}" is registered (registered: ${known}); register it before starting or resuming its runs.`,
      );
    }
    return factory;
  }
}
