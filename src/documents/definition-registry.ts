import { TaskFlowError } from '../core/errors.ts';
import type { FlowRef } from '../core/flow-ref.ts';
import { type FlowFactory, FlowRegistry } from '../engine/flow-registry.ts';
import type { Flow } from '../patterns/flow.ts';
import {
  type CompiledDocument,
  compileDocument,
  type DocumentEnvironment,
} from './compile-document.ts';
import { type ConditionEvaluator, WorkerConditionEvaluator } from './condition-evaluator.ts';
import { DocumentError } from './document-error.ts';
import type { FlowDocument } from './document-schema.ts';
import {
  type DefinitionStore,
  definitionRow,
  type StoredDefinition,
} from './store/definition-store.ts';
import type { HttpEnvironment } from './task-types/http-request.ts';
import type { WorkerTaskQueue } from './workers/worker-task-queue.ts';

/** Options of {@link DefinitionRegistry.open}. */
export interface DefinitionRegistryOptions {
  /** Where definitions are stored (see `openDefinitionStore`); the caller closes it. */
  readonly store: DefinitionStore;
  /** Flows written in code, served beside the definitions (their names are then taken). */
  readonly flows?: Pick<FlowRegistry, 'factories'>;
  /** Hosts `http` tasks may call, and the secrets their headers may use. None by default. */
  readonly http?: Partial<HttpEnvironment>;
  /**
   * Where `worker` tasks wait for external workers (see `openWorkerTaskQueue`; the caller
   * closes it); without one, documents with worker tasks are refused.
   */
  readonly workers?: WorkerTaskQueue;
  /** Evaluates link conditions; a worker-thread JSONata evaluator by default. */
  readonly conditions?: ConditionEvaluator;
  /** Epoch milliseconds, for the time a definition is stored. */
  readonly now?: () => number;
}

/** A definition as stored, with what its document declares and the flow it compiles to. */
export interface Definition extends StoredDefinition {
  readonly document: FlowDocument;
  readonly flow: Flow;
}

type Entry =
  | { readonly ok: true; readonly definition: Definition }
  | { readonly ok: false; readonly error: Error };

/**
 * A {@link FlowRegistry} whose flows are also flow documents stored in a database: a run of a
 * definition records its name and version like any factory, and any process with this
 * registry over the same database rebuilds it from the stored document, so a conductor
 * resumes or takes over such runs. Definitions are immutable: storing a name and version
 * again with the same document is a no-op, with another document a `DEFINITION_EXISTS` error.
 *
 * `build` is synchronous, as conductors call it, so stored definitions are kept compiled in
 * memory: all of them at `open`, one more at each `put` and `resolve`. A run whose definition
 * this process has not seen yet (stored by another process since) fails its build with a
 * retryable error while the definition is loaded, so its job is handed back and claimed again.
 *
 * @example
 * const registry = await DefinitionRegistry.open({
 *   store: await openDefinitionStore(url), flows: codeRegistry, http: { allowHosts: ['api.example.com'] },
 * });
 * await registry.put(parseDocumentText(yamlText));
 * const conductor = new Conductor({ board, runs, registry });
 */
export class DefinitionRegistry extends FlowRegistry {
  readonly #store: DefinitionStore;
  readonly #http: HttpEnvironment;
  readonly #workers: WorkerTaskQueue | undefined;
  readonly #conditions: ConditionEvaluator;
  readonly #ownsConditions: boolean;
  readonly #now: () => number;
  readonly #code = new Set<string>();
  /** Compiled definitions by name, then version, versions in the order they were stored. */
  readonly #entries = new Map<string, Map<string, Entry>>();
  readonly #loading = new Map<string, Promise<void>>();
  readonly #missing = new Set<string>();
  /** One factory object per definition, so what describes a factory can be kept by it. */
  readonly #factories = new WeakMap<Definition, FlowFactory>();

  private constructor(options: DefinitionRegistryOptions) {
    super();
    this.#store = options.store;
    this.#http = {
      allowHosts: options.http?.allowHosts ?? [],
      secrets: options.http?.secrets ?? {},
      ...(options.http?.maxResponseBytes === undefined
        ? {}
        : { maxResponseBytes: options.http.maxResponseBytes }),
    };
    this.#workers = options.workers;
    this.#ownsConditions = options.conditions === undefined;
    this.#conditions = options.conditions ?? new WorkerConditionEvaluator();
    this.#now = options.now ?? Date.now;
    for (const factory of options.flows?.factories() ?? []) this.register(factory);
  }

  /** Adds a flow written in code; its name cannot then be a definition's. */
  override register(factory: FlowFactory): this {
    super.register(factory);
    this.#code.add(factory.name);
    return this;
  }

  /** A registry over `store` with every stored definition compiled. */
  static async open(options: DefinitionRegistryOptions): Promise<DefinitionRegistry> {
    const registry = new DefinitionRegistry(options);
    for (const stored of await options.store.list()) registry.#remember(stored);
    return registry;
  }

  /**
   * Checks a document (see `compileDocument`) and stores it under its name and version.
   * `created` is false when that exact document was stored already. Throws a `DocumentError`
   * listing every problem, or `DEFINITION_EXISTS` when the version holds another document.
   */
  async put(
    value: unknown,
  ): Promise<{ readonly definition: Definition; readonly created: boolean }> {
    const compiled = compileDocument(value, this.#environment());
    const { name, version } = compiled.document;
    if (this.#code.has(name)) {
      throw new DocumentError([
        {
          code: 'NAME_TAKEN',
          path: '$.name',
          message: `"${name}" is the name of a flow written in code that this service serves; give the definition another name`,
        },
      ]);
    }
    const row = definitionRow(name, version, compiled.document, this.#now());
    const created = await this.#store.insert(row);
    const stored = created ? row : await this.#store.get(name, version);
    if (stored === undefined) {
      throw new TaskFlowError(
        'DEFINITION_VANISHED',
        `Definition "${name}" version ${version} was stored but cannot be read back; is another process deleting rows of taskflow_definitions?`,
        { retryable: true },
      );
    }
    if (stored.digest !== row.digest) {
      throw new TaskFlowError(
        'DEFINITION_EXISTS',
        `Definition "${name}" version ${version} is already stored with another document, and stored versions never change; publish this document as a new "version".`,
      );
    }
    const definition = { ...stored, document: compiled.document, flow: compiled.flow };
    this.#keep(stored, { ok: true, definition });
    return { definition, created };
  }

  /**
   * One version of a definition (its newest when `version` is omitted), read from the store so
   * that one stored by another process is found; undefined when there is none.
   */
  async get(name: string, version?: string): Promise<Definition | undefined> {
    const stored = await this.#store.get(name, version);
    if (stored === undefined) return undefined;
    const entry = this.#remember(stored);
    if (!entry.ok) throw entry.error;
    return entry.definition;
  }

  /** Every stored definition, each version, by name (as stored; read from the store). */
  async list(): Promise<StoredDefinition[]> {
    return this.#store.list();
  }

  /**
   * The factory of `name` in `version` (the newest by default), code flows first, loading a
   * definition stored by another process; undefined when there is no such flow.
   */
  async resolve(name: string, version?: string): Promise<FlowFactory | undefined> {
    if (this.#code.has(name)) return super.factories().find((f) => f.name === name);
    const definition = await this.get(name, version);
    return definition === undefined ? undefined : this.#factoryOf(definition);
  }

  /** Code flows, then the newest version of each definition this process has compiled. */
  override factories(): readonly FlowFactory[] {
    const newest = [...this.#entries.values()].flatMap((versions) => {
      const last = [...versions.values()].filter((e) => e.ok).at(-1);
      return last?.ok ? [this.#factoryOf(last.definition)] : [];
    });
    return [...super.factories(), ...newest];
  }

  override ref(name: string): FlowRef {
    if (this.#code.has(name)) return super.ref(name);
    const last = [...(this.#entries.get(name)?.values() ?? [])].filter((e) => e.ok).at(-1);
    if (last?.ok) return { name, version: last.definition.version };
    return super.ref(name);
  }

  override build(ref: FlowRef, store: Readonly<Record<string, unknown>>): Flow {
    if (this.#code.has(ref.name)) return super.build(ref, store);
    const entry = this.#entries.get(ref.name)?.get(ref.version);
    if (entry?.ok) return entry.definition.flow;
    if (entry !== undefined) throw entry.error;
    const key = `${ref.name}\u0000${ref.version}`;
    if (this.#missing.delete(key)) {
      throw new TaskFlowError(
        'UNKNOWN_FACTORY',
        `No flow "${ref.name}" version ${ref.version} is served here: no code flow has that name and no such definition is stored; store the definition (POST /v1/definitions) before starting its runs.`,
      );
    }
    this.#load(ref, key);
    throw new TaskFlowError(
      'DEFINITION_LOADING',
      `Definition "${ref.name}" version ${ref.version} is being loaded from the store by this process; its run continues at the next claim.`,
      { retryable: true },
    );
  }

  /** The queue of `worker` tasks, for the routes where workers claim them. */
  get workers(): WorkerTaskQueue | undefined {
    return this.#workers;
  }

  /** Stops the condition evaluator this registry started (not the store, which the caller owns). */
  async close(): Promise<void> {
    if (this.#ownsConditions) await this.#conditions.close();
  }

  #load(ref: FlowRef, key: string): void {
    if (this.#loading.has(key)) return;
    const loading = this.#store
      .get(ref.name, ref.version)
      .then((stored) => {
        if (stored === undefined) this.#missing.add(key);
        else this.#remember(stored);
      })
      // The store is unreachable: the next build tries again.
      .catch(() => {})
      .finally(() => this.#loading.delete(key));
    this.#loading.set(key, loading);
  }

  /** Compiles a stored definition once; a document this process cannot compile is kept as its error. */
  #remember(stored: StoredDefinition): Entry {
    const known = this.#entries.get(stored.name)?.get(stored.version);
    if (known !== undefined) return known;
    let entry: Entry;
    try {
      const compiled: CompiledDocument = compileDocument(stored.document, this.#environment());
      entry = {
        ok: true,
        definition: { ...stored, document: compiled.document, flow: compiled.flow },
      };
    } catch (error) {
      entry = { ok: false, error: error as Error };
    }
    this.#keep(stored, entry);
    return entry;
  }

  #keep(stored: StoredDefinition, entry: Entry): void {
    let versions = this.#entries.get(stored.name);
    if (versions === undefined) {
      versions = new Map();
      this.#entries.set(stored.name, versions);
    }
    versions.set(stored.version, entry);
  }

  #factoryOf(definition: Definition): FlowFactory {
    let factory = this.#factories.get(definition);
    if (factory === undefined) {
      factory = {
        name: definition.name,
        version: definition.version,
        build: () => definition.flow,
      };
      this.#factories.set(definition, factory);
    }
    return factory;
  }

  #environment(): DocumentEnvironment {
    return {
      http: this.#http,
      conditions: this.#conditions,
      ...(this.#workers === undefined ? {} : { workers: { queue: this.#workers } }),
    };
  }
}
