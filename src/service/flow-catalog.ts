import { toJSONSchema } from 'zod';
import type { InputSchema } from '../core/input-schema.ts';
import type { FlowFactory } from '../engine/flow-registry.ts';
import { toGraph } from '../patterns/graph-export.ts';
import { ProblemError } from './problem.ts';
import type { ServiceRegistry } from './service-deps.ts';

/** One flow as `GET /v1/flows` lists it. */
export interface FlowDescription {
  readonly name: string;
  readonly version: string;
  readonly resumes: readonly string[];
  readonly requires: readonly string[];
  readonly provides: readonly string[];
  /** The JSON Schema of the flow's inputs, when its factory declares a zod schema. */
  readonly inputSchema: Record<string, unknown> | null;
  readonly graph: ReturnType<typeof toGraph>;
}

/**
 * The flows a service offers, described once: each factory is built with an empty store to
 * read what it requires and provides and its graph (a factory's shape must not depend on its
 * inputs for this to be right, as for resuming).
 */
export class FlowCatalog {
  readonly #registry: ServiceRegistry;
  // By factory: a registry of stored definitions gains factories while the service runs.
  readonly #described = new WeakMap<FlowFactory, FlowDescription>();

  constructor(registry: ServiceRegistry) {
    this.#registry = registry;
  }

  list(): readonly FlowDescription[] {
    return this.#registry.factories().map((factory) => this.describe(factory));
  }

  /** What `GET /v1/flows` says of one factory. */
  describe(factory: FlowFactory): FlowDescription {
    let described = this.#described.get(factory);
    if (described === undefined) {
      described = describe(factory);
      this.#described.set(factory, described);
    }
    return described;
  }

  /**
   * The factory named `name`, in `version` when the registry keeps several (stored
   * definitions do); a 404 problem naming the served flows when there is none.
   */
  async resolve(name: string, version?: string): Promise<FlowFactory> {
    if (this.#registry.resolve === undefined) return this.factory(name);
    const found = await this.#registry.resolve(name, version);
    if (found === undefined) {
      const which = version === undefined ? '' : ` in version ${JSON.stringify(version)}`;
      throw new ProblemError(
        404,
        'unknown-flow',
        'Unknown flow',
        `No flow named ${JSON.stringify(name)}${which} is served here; GET /v1/flows and GET /v1/definitions list them.`,
      );
    }
    return found;
  }

  /** The factory named `name`; a 404 problem naming the served flows when there is none. */
  factory(name: string): FlowFactory {
    const factory = this.#registry.factories().find((f) => f.name === name);
    if (factory === undefined) {
      const served = this.#registry
        .factories()
        .map((f) => `"${f.name}"`)
        .join(', ');
      throw new ProblemError(
        404,
        'unknown-flow',
        'Unknown flow',
        `No flow named ${JSON.stringify(name)} is served here (served: ${served || 'none'}); GET /v1/flows lists them.`,
      );
    }
    return factory;
  }
}

function describe(factory: FlowFactory): FlowDescription {
  const flow = factory.build({});
  return {
    name: factory.name,
    version: factory.version,
    resumes: factory.resumes ?? [],
    requires: flow.requires,
    provides: flow.provides,
    inputSchema: jsonSchemaOf(factory.inputs),
    graph: toGraph(flow),
  };
}

/** A zod schema as JSON Schema; null for none, for another library's, or for one JSON Schema cannot say. */
function jsonSchemaOf(schema: InputSchema | undefined): Record<string, unknown> | null {
  if (schema === undefined || schema['~standard'].vendor !== 'zod') return null;
  try {
    return toJSONSchema(schema as unknown as Parameters<typeof toJSONSchema>[0], {
      io: 'input',
    }) as Record<string, unknown>;
  } catch {
    return null;
  }
}
