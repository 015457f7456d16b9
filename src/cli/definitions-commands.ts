import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { TaskFlowError } from '../index.ts';
import {
  allowEntryProblem,
  DefinitionRegistry,
  type HttpEnvironment,
  openDefinitionStore,
  openWorkerTaskQueue,
  type ServiceRegistry,
} from '../service/index.ts';
import { JSON_OPTION } from './backends.ts';
import {
  type CliIo,
  type Command,
  type CommandArgs,
  NotFoundError,
  type OptionSpec,
  positional,
  stringOption,
  stringsOption,
  UsageError,
} from './command.ts';
import { formatTime, printFields, printJson, printTable, safeText } from './output.ts';

// `taskflow definitions put|ls|show`: flow documents stored by a running service, over its
// HTTP API (the service checks them against its own allow-list and secrets). And the options
// with which `serve` and `conductor` serve definitions.

const DEFAULT_SERVICE_URL = 'http://127.0.0.1:8080';

const SERVICE_OPTIONS: Readonly<Record<'url' | 'token', OptionSpec>> = {
  url: {
    type: 'string',
    value: 'URL',
    description: `the service (default: $TASKFLOW_URL, else ${DEFAULT_SERVICE_URL})`,
  },
  token: {
    type: 'string',
    value: 'TOKEN',
    description: 'bearer token (default: $TASKFLOW_TOKEN); prefer the variable, kept out of ps',
  },
};

const put: Command = {
  group: 'definitions',
  name: 'put',
  summary: 'store a flow document (JSON or YAML file) as a definition on the service',
  positionals: ['FILE'],
  options: { ...SERVICE_OPTIONS, json: JSON_OPTION },
  async run(args, io) {
    const file = positional(args, 0);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(
        `Cannot read ${JSON.stringify(file)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); pass the path of a flow document.`,
      );
    }
    const json =
      ['.json'].includes(extname(file).toLowerCase()) || text.trimStart().startsWith('{');
    const response = await call(args, io, 'POST', '/v1/definitions', {
      body: text,
      type: json ? 'application/json' : 'application/yaml',
    });
    const stored = response.body as DefinitionView;
    if (args.values.json === true) {
      printJson(io, stored);
      return;
    }
    const how = response.status === 201 ? 'stored' : 'already stored, unchanged';
    io.stdout(`${safeText(`Definition ${stored.name} version ${stored.version} ${how}.`)}\n`);
  },
};

const ls: Command = {
  group: 'definitions',
  name: 'ls',
  summary: 'list the definitions stored on the service, every version',
  positionals: [],
  options: { ...SERVICE_OPTIONS, json: JSON_OPTION },
  async run(args, io) {
    const { body } = await call(args, io, 'GET', '/v1/definitions');
    const items = (body as { items: DefinitionView[] }).items;
    if (args.values.json === true) {
      printJson(io, items);
      return;
    }
    printTable(
      io,
      ['NAME', 'VERSION', 'STORED', 'DIGEST'],
      items.map((d) => [
        d.name,
        d.version,
        formatTime(Date.parse(d.createdAt)),
        d.digest.slice(0, 12),
      ]),
    );
  },
};

const show: Command = {
  group: 'definitions',
  name: 'show',
  summary: 'show a definition (its newest version, or --version): inputs, outputs, document',
  positionals: ['NAME'],
  options: {
    ...SERVICE_OPTIONS,
    version: { type: 'string', value: 'VERSION', description: 'the version (default: newest)' },
    json: JSON_OPTION,
  },
  async run(args, io) {
    const name = encodeURIComponent(positional(args, 0));
    const version = stringOption(args, 'version');
    const path =
      version === undefined
        ? `/v1/definitions/${name}`
        : `/v1/definitions/${name}/versions/${encodeURIComponent(version)}`;
    const definition = (await call(args, io, 'GET', path)).body as DefinitionView;
    if (args.values.json === true) {
      printJson(io, definition);
      return;
    }
    printFields(io, [
      ['name', definition.name],
      ['version', definition.version],
      ['stored', formatTime(Date.parse(definition.createdAt))],
      ['digest', definition.digest],
      ['description', definition.description ?? ''],
      ['inputs', definition.inputs.join(', ')],
      ['provides', definition.provides.join(', ')],
      ['tasks', `${definition.graph.nodes.filter((n) => n.kind === 'task').length}`],
    ]);
    // Pretty JSON holds no raw control character but its line breaks: each line is made safe.
    const lines = JSON.stringify(definition.document, null, 2).split('\n');
    io.stdout(`${lines.map(safeText).join('\n')}\n`);
  },
};

export const definitionsCommands: readonly Command[] = [put, ls, show];

/** What the service answers about a definition (the fields the CLI prints). */
interface DefinitionView {
  readonly name: string;
  readonly version: string;
  readonly createdAt: string;
  readonly digest: string;
  readonly description?: string | null;
  readonly inputs: readonly string[];
  readonly provides: readonly string[];
  readonly graph: { readonly nodes: readonly { readonly kind: string }[] };
  readonly document: unknown;
}

/** Calls the service; a problem answer becomes an error with its detail and every issue. */
async function call(
  args: CommandArgs,
  io: CliIo,
  method: string,
  path: string,
  send?: { readonly body: string; readonly type: string },
): Promise<{ status: number; body: unknown }> {
  const base = stringOption(args, 'url') ?? io.env.TASKFLOW_URL ?? DEFAULT_SERVICE_URL;
  const token = stringOption(args, 'token') ?? io.env.TASKFLOW_TOKEN;
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (send !== undefined) headers['Content-Type'] = send.type;
  let response: Response;
  try {
    response = await fetch(new URL(path, base), {
      method,
      headers,
      ...(send === undefined ? {} : { body: send.body }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new TaskFlowError(
      'SERVICE_UNREACHABLE',
      `Cannot reach the service at ${base} (${cause}); start it with "taskflow serve" or pass --url.`,
    );
  }
  const text = await response.text();
  const body = text === '' ? undefined : (JSON.parse(text) as unknown);
  if (response.ok) return { status: response.status, body };
  // A problem's detail names what was wrong and the fix (for a document, every issue).
  const detail = (body as { detail?: string } | undefined)?.detail ?? `status ${response.status}`;
  if (response.status === 404) throw new NotFoundError(detail);
  throw new TaskFlowError(
    response.status === 401 || response.status === 403 ? 'UNAUTHORIZED' : 'REFUSED',
    detail,
  );
}

/** The options with which `serve` and `conductor` configure the task types of definitions. */
export const DEFINITION_OPTIONS: Readonly<Record<'allow-host' | 'secrets', OptionSpec>> = {
  'allow-host': {
    type: 'string',
    multiple: true,
    value: 'HOST',
    description:
      'a host http tasks may call (host, host:port or *.domain; repeat it; also $TASKFLOW_ALLOW_HOSTS, comma-separated); none by default',
  },
  secrets: {
    type: 'string',
    value: 'FILE',
    description:
      'a JSON file of secrets by name, for {{ $secrets.NAME }} in http headers (default: $TASKFLOW_SECRETS_FILE)',
  },
};

/**
 * The registry `serve` and `conductor` run: the flows of the --flows module (when given) and
 * the definitions stored in the run store's database at `runsUrl`, with the http task
 * configuration of {@link DEFINITION_OPTIONS} and the worker task queue of that database.
 * Closed after `use`.
 */
export async function withDefinitions<T>(
  args: CommandArgs,
  io: CliIo,
  runsUrl: string,
  flows: ServiceRegistry | undefined,
  use: (registry: DefinitionRegistry) => Promise<T>,
): Promise<T> {
  const http = httpEnvironment(args, io);
  const store = await openDefinitionStore(runsUrl);
  try {
    const workers = await openWorkerTaskQueue(runsUrl);
    try {
      const registry = await DefinitionRegistry.open({
        store,
        http,
        workers,
        ...(flows === undefined ? {} : { flows }),
      });
      try {
        return await use(registry);
      } finally {
        await registry.close();
      }
    } finally {
      await workers.close();
    }
  } finally {
    await store.close();
  }
}

function httpEnvironment(args: CommandArgs, io: CliIo): HttpEnvironment {
  const fromEnv = (io.env.TASKFLOW_ALLOW_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  const allowHosts = [...stringsOption(args, 'allow-host'), ...fromEnv];
  for (const host of allowHosts) {
    const problem = allowEntryProblem(host);
    if (problem !== undefined) {
      throw new UsageError(`--allow-host ${JSON.stringify(host)} ${problem}.`);
    }
  }
  const file = stringOption(args, 'secrets') ?? io.env.TASKFLOW_SECRETS_FILE;
  return { allowHosts, secrets: file === undefined ? {} : readSecrets(file) };
}

function readSecrets(file: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `--secrets ${JSON.stringify(file)} is not a readable JSON file (${(error as Error).message}); write it as {"NAME": "value"}.`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(
      `--secrets ${JSON.stringify(file)} must hold one JSON object {"NAME": "value"}.`,
    );
  }
  const secrets: Record<string, string> = {};
  for (const [name, secret] of Object.entries(value)) {
    if (typeof secret !== 'string') {
      // The value is a secret: name its key only.
      throw new UsageError(
        `--secrets ${JSON.stringify(file)}: the secret "${name}" must be a string.`,
      );
    }
    Object.defineProperty(secrets, name, { value: secret, enumerable: true });
  }
  return secrets;
}
