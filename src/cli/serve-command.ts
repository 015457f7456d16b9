import { openRunChangeFeed } from '../index.ts';
import {
  isLoopback,
  openTokenStore,
  type ServiceRegistry,
  type StartServiceOptions,
  startService,
} from '../service/index.ts';
import {
  BOARD_OPTION,
  chosenRunsUrl,
  RUNS_OPTIONS,
  runsUrl,
  withJobBoard,
  withRunStore,
} from './backends.ts';
import {
  type CliIo,
  type Command,
  integerOption,
  stringOption,
  stringsOption,
  UsageError,
} from './command.ts';
import { DEFINITION_OPTIONS, withDefinitions } from './definitions-commands.ts';
import { flowsModule, flowsOptions, loadRegistry } from './flow-argument.ts';
import { safeText } from './output.ts';

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';

/**
 * `taskflow serve`: the workflow service. Serves the `/v1` HTTP API over the run store and the
 * board, with the flows of a registry module, and runs conductors in the same process, until
 * SIGTERM or SIGINT.
 */
export const serveCommand: Command = {
  group: 'serve',
  name: '',
  summary: 'serve the HTTP API and run conductors, with the flows of a registry module',
  positionals: [],
  options: {
    ...flowsOptions(
      'a module exporting a FlowRegistry (as "registry" or default); stored definitions are served too',
    ),
    ...DEFINITION_OPTIONS,
    ...RUNS_OPTIONS,
    board: BOARD_OPTION,
    port: {
      type: 'string',
      value: 'N',
      description: `port to listen on (0..65535, 0 = any free one; default ${DEFAULT_PORT})`,
    },
    host: {
      type: 'string',
      value: 'HOST',
      description: `address to listen on (default ${DEFAULT_HOST})`,
    },
    conductors: {
      type: 'string',
      value: 'N',
      description: 'conductors run in this process (0..64; 0 = API only; default 1)',
    },
    'no-auth': {
      type: 'boolean',
      description: 'accept requests without a bearer token (only on a loopback --host)',
    },
    'cors-origin': {
      type: 'string',
      multiple: true,
      value: 'ORIGIN',
      description:
        'a browser origin allowed to call the API (CORS), e.g. https://ops.example.com; repeat for several (default: CORS off)',
    },
  },
  async run(args, io) {
    const module = flowsModule(args);
    const port = integerOption(args, 'port') ?? DEFAULT_PORT;
    if (port < 0 || port > 65_535) {
      throw new UsageError(`Option --port must be from 0 to 65535, got ${port}.`);
    }
    const conductors = integerOption(args, 'conductors') ?? 1;
    if (conductors < 0 || conductors > 64) {
      throw new UsageError(`Option --conductors must be from 0 to 64, got ${conductors}.`);
    }
    const host = stringOption(args, 'host') ?? DEFAULT_HOST;
    const noAuth = args.values['no-auth'] === true;
    if (noAuth && !isLoopback(host)) {
      throw new UsageError(
        `--no-auth is refused with --host ${host}: anyone who can reach that address could run and trash jobs. Bind to 127.0.0.1 or create tokens with "taskflow tokens create".`,
      );
    }
    const corsOrigins = stringsOption(args, 'cors-origin').map(checkedOrigin);
    const flows =
      module === undefined ? undefined : serviceRegistry(await loadRegistry(module), module);
    const url = chosenRunsUrl(runsUrl(args), io, true);
    await withRunStore(
      url,
      io,
      (runs) =>
        withDefinitions(args, io, url, flows, async (registry) => {
          const feed = await openRunChangeFeed(url);
          const tokens = noAuth
            ? undefined
            : await openTokenStore(url).catch(async (error) => {
                await feed.close();
                throw error;
              });
          try {
            await withJobBoard(
              stringOption(args, 'board'),
              io,
              (board) =>
                serveUntilSignal(io, {
                  runs,
                  board,
                  registry,
                  feed,
                  auth: tokens === undefined ? 'none' : { tokens },
                  port,
                  host,
                  conductors,
                  corsOrigins,
                  onError: (error, requestId) => logError(io, error, requestId),
                }),
              { create: true },
            );
          } finally {
            await tokens?.close();
            await feed.close();
          }
        }),
      { create: true },
    );
  },
};

async function serveUntilSignal(io: CliIo, options: StartServiceOptions): Promise<void> {
  const service = await startService(options);
  const conductors = options.conductors ?? 1;
  const unauthenticated = options.auth === 'none' ? ' and NO authentication' : '';
  io.stdout(`${safeText(service.url)}\n`);
  io.stdout(
    `${safeText(`Serving ${options.registry.factories().length} flow(s) with ${conductors} conductor(s)${unauthenticated}; SIGTERM or SIGINT stops it.`)}\n`,
  );
  await untilSignal();
  await service.close();
}

/** An origin as browsers send it: scheme, host and port, nothing else. */
function checkedOrigin(value: string): string {
  let origin: string | undefined;
  try {
    origin = new URL(value).origin;
  } catch {
    origin = undefined;
  }
  if (origin === undefined || origin === 'null' || origin !== value.replace(/\/$/, '')) {
    throw new UsageError(
      `--cors-origin ${JSON.stringify(value)} is not an origin; give scheme, host and port only, e.g. https://ops.example.com or http://localhost:5173.`,
    );
  }
  return origin;
}

function serviceRegistry(registry: object, module: string): ServiceRegistry {
  if (typeof (registry as { factories?: unknown }).factories !== 'function') {
    throw new UsageError(
      `--flows ${JSON.stringify(module)} exports a registry without factories(); build it with this version of the library's FlowRegistry.`,
    );
  }
  return registry as ServiceRegistry;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function logError(io: CliIo, error: unknown, requestId: string): void {
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`${safeText(`request ${requestId} failed: ${message}`)}\n`);
}
