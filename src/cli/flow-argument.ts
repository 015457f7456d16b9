import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type FlowRef, type FlowRegistry, findJsonProblem, type JobStore } from '../index.ts';
import { type CommandArgs, type OptionSpec, stringOption, UsageError } from './command.ts';

/**
 * `--flows MODULE`, the module exporting the FlowRegistry, described for one command;
 * `--registry` is read as its deprecated spelling for one more release.
 */
export function flowsOptions(description: string): Record<'flows' | 'registry', OptionSpec> {
  return {
    flows: { type: 'string', value: 'MODULE', description },
    registry: { type: 'string', value: 'MODULE', description: 'deprecated spelling of --flows' },
  };
}

/** The `--flows` module, under either spelling. */
export function flowsModule(args: CommandArgs): string | undefined {
  return stringOption(args, 'flows') ?? stringOption(args, 'registry');
}

/**
 * The flow a job runs, from `--flow NAME@VERSION`. With a `--flows` module, NAME must be
 * registered there, and without `@VERSION` the version is the registered one.
 */
export async function parseFlowArgument(
  text: string,
  registryModule: string | undefined,
): Promise<FlowRef> {
  const at = text.lastIndexOf('@');
  const name = at > 0 ? text.slice(0, at) : text;
  const version = at > 0 ? text.slice(at + 1) : '';
  if (name === '' || (at > 0 && version === '')) {
    throw new UsageError(
      `--flow ${JSON.stringify(text)} is malformed; write --flow FACTORY@VERSION, e.g. --flow provision@2.`,
    );
  }
  if (registryModule !== undefined) {
    // Refuses a factory the registry lacks, naming the ones it has.
    const registered = (await loadRegistry(registryModule)).ref(name);
    return version === '' ? registered : { name, version };
  }
  if (version !== '') return { name, version };
  throw new UsageError(
    `--flow "${name}" names no version; write --flow ${name}@VERSION, or pass --flows MODULE to take the version registered there.`,
  );
}

/** Parses `--store-json`: a JSON object of the flow's named inputs. */
export function parseStoreJson(text: string | undefined): JobStore {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--store-json is not valid JSON (${(error as Error).message}); pass an object such as --store-json '{"size": 10}'.`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(
      `--store-json must be a JSON object of named inputs, got ${text}; e.g. --store-json '{"size": 10}'.`,
    );
  }
  // JSON.parse reads 1e999 as Infinity, which no backend can store: a bad value, not a storage error.
  const problem = findJsonProblem(value, 'store');
  if (problem !== undefined) {
    throw new UsageError(
      `--store-json cannot be stored: ${problem.path} ${problem.reason}; numbers must be finite, e.g. --store-json '{"size": 10}'.`,
    );
  }
  return value as JobStore;
}

type RegistryLike = Pick<FlowRegistry, 'ref' | 'build'>;

/**
 * Imports a module that exports a FlowRegistry as `registry` or as its default export, or a
 * function (sync or async) returning one. It is recognised by shape, not by class, since the
 * module may load another copy of the library. `option` names the option in messages.
 */
export async function loadRegistry(path: string, option = '--flows'): Promise<RegistryLike> {
  let module: Record<string, unknown>;
  try {
    module = await importModule(path, option);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `${option} ${JSON.stringify(path)} could not be imported (${(error as Error).message}); pass the path of a module that exports a FlowRegistry as "registry".`,
    );
  }
  for (const exported of [module.registry, module.default]) {
    const registry =
      typeof exported === 'function'
        ? await built(exported as () => unknown, path, option)
        : exported;
    if (isRegistry(registry)) return registry;
  }
  throw new UsageError(
    `${option} ${JSON.stringify(path)} exports no FlowRegistry; export one as "registry" (export const registry = new FlowRegistry().register(...)), or a function returning one.`,
  );
}

/** What a registry-making function exported by the module returns. */
async function built(make: () => unknown, path: string, option: string): Promise<unknown> {
  try {
    return await make();
  } catch (error) {
    throw new UsageError(
      `${option} ${JSON.stringify(path)} exports a function that failed to make the FlowRegistry (${(error as Error).message}); fix it, or export the registry itself.`,
    );
  }
}

/**
 * Imports a module by path. Node 20 cannot import TypeScript by itself: a `.ts` module is then
 * loaded through tsx when it is installed, and otherwise refused with what to do.
 */
async function importModule(path: string, option: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(path)).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    const tsx = (await import('tsx/esm/api').catch(() => undefined)) as
      | { register: () => unknown }
      | undefined;
    if (!tsx) {
      throw new UsageError(
        `${option} ${JSON.stringify(path)} is TypeScript, which this Node.js cannot import by itself; compile it to JavaScript and pass the .js file, or install tsx (npm install --save-dev tsx) so that taskflow loads it through tsx.`,
      );
    }
    tsx.register();
    // The failed import is cached under its URL; a query makes it a new one.
    return (await import(`${url}?tsx`)) as Record<string, unknown>;
  }
}

function isRegistry(value: unknown): value is RegistryLike {
  const candidate = value as { ref?: unknown; build?: unknown } | undefined;
  return typeof candidate?.ref === 'function' && typeof candidate.build === 'function';
}
