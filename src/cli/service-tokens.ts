import { isTokenScope, openTokenStore, TOKEN_SCOPES, type TokenStore } from '../service/index.ts';
import { chosenRunsUrl, JSON_OPTION, RUNS_OPTIONS, runsUrl, withRunStore } from './backends.ts';
import {
  type CliIo,
  type Command,
  type CommandArgs,
  NotFoundError,
  positional,
  stringOption,
  UsageError,
} from './command.ts';
import { formatTime, printJson, printTable, safeText } from './output.ts';

// `taskflow tokens create|list|revoke`: the service's bearer tokens, kept hashed in the run
// store's database.

const create: Command = {
  group: 'tokens',
  name: 'create',
  summary: 'make a bearer token for the service and print it once',
  positionals: [],
  options: {
    ...RUNS_OPTIONS,
    scope: {
      type: 'string',
      value: 'SCOPE',
      description: `required: ${TOKEN_SCOPES.join(', ')} (each allows what the ones before it do)`,
    },
    label: { type: 'string', value: 'TEXT', description: 'who or what the token is for' },
    json: JSON_OPTION,
  },
  async run(args, io) {
    const scope = stringOption(args, 'scope');
    if (scope === undefined || !isTokenScope(scope)) {
      throw new UsageError(
        `"taskflow tokens create" needs --scope with one of ${TOKEN_SCOPES.join(', ')}${scope === undefined ? '' : `, got "${scope}"`}; e.g. --scope operate.`,
      );
    }
    const label = stringOption(args, 'label') ?? '';
    const made = await withTokens(args, io, (tokens) => tokens.create(scope, label));
    if (args.values.json === true) {
      printJson(io, made);
      return;
    }
    io.stdout(`${made.token}\n`);
    io.stderr(
      `${safeText(`Token ${made.id} with scope "${scope}" made; it is shown only now, store it safely.`)}\n`,
    );
  },
};

const list: Command = {
  group: 'tokens',
  name: 'list',
  summary: "list the service's tokens (never the tokens themselves)",
  positionals: [],
  options: { ...RUNS_OPTIONS, json: JSON_OPTION },
  async run(args, io) {
    const tokens = await withTokens(args, io, (store) => store.list());
    if (args.values.json === true) {
      printJson(io, tokens);
      return;
    }
    printTable(
      io,
      ['ID', 'SCOPE', 'LABEL', 'CREATED', 'REVOKED'],
      tokens.map((t) => [
        t.id,
        t.scope,
        t.label,
        formatTime(t.createdAt),
        t.revokedAt === null ? '' : formatTime(t.revokedAt),
      ]),
    );
  },
};

const revoke: Command = {
  group: 'tokens',
  name: 'revoke',
  summary: 'revoke a token by its id, at once',
  positionals: ['ID'],
  options: { ...RUNS_OPTIONS },
  async run(args, io) {
    const id = positional(args, 0);
    const revoked = await withTokens(args, io, (tokens) => tokens.revoke(id));
    if (!revoked) {
      throw new NotFoundError(
        `No live token has id "${id}"; "taskflow tokens list" shows the ids.`,
      );
    }
    io.stdout(`${safeText(`Token ${id} is revoked.`)}\n`);
  },
};

export const tokenCommands: readonly Command[] = [create, list, revoke];

/** Opens the run store (creating it when new, so the token table has its file) and its tokens. */
function withTokens<T>(
  args: CommandArgs,
  io: CliIo,
  use: (tokens: TokenStore) => Promise<T>,
): Promise<T> {
  const url = chosenRunsUrl(runsUrl(args), io, true);
  return withRunStore(
    url,
    io,
    async () => {
      const tokens = await openTokenStore(url);
      try {
        return await use(tokens);
      } finally {
        await tokens.close();
      }
    },
    { create: true },
  );
}
