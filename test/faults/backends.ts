// The three backends of the fault campaign, isolated per campaign: a SQLite board and run
// store in a temporary folder; PostgreSQL board and store in a fresh schema; a Redis board
// under a fresh key prefix with a PostgreSQL store. With `outage`, the PostgreSQL server is a
// private one (test/support/private-postgres.ts) the campaign may stop for a moment; the
// shared servers are never stopped.
import { join } from 'node:path';
import { PrivatePostgres } from '../support/private-postgres.ts';
import {
  POSTGRES_URL,
  postgresUnavailable,
  REDIS_URL,
  redisUnavailable,
  TestPrefixes,
  TestSchemas,
} from '../support/servers.ts';
import type { Backend } from './campaign.ts';

export const BACKEND_NAMES = ['sqlite', 'postgres', 'redis'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** A backend ready for one campaign, and how to tidy it up afterwards. */
export interface PreparedBackend {
  readonly backend: Backend;
  dispose(): Promise<void>;
}

/** Why the backend cannot run here, or false (under CI=true an unreachable server throws). */
export async function backendUnavailable(name: BackendName): Promise<string | false> {
  if (name === 'sqlite') return false;
  const postgres = await postgresUnavailable();
  if (postgres || name === 'postgres') return postgres;
  return redisUnavailable();
}

/** Why no outage can be staged here, or false. */
export function outageUnavailable(name: BackendName): string | false {
  if (name === 'sqlite') return 'the SQLite backend has no server to stop';
  return PrivatePostgres.unavailable();
}

/**
 * Prepares a backend. With `outage`, PostgreSQL (the board and store of `postgres`, the store
 * of `redis`) is a private server the campaign stops for a moment under running conductors.
 */
export async function prepareBackend(
  name: BackendName,
  dir: string,
  outage: boolean,
): Promise<PreparedBackend> {
  if (name === 'sqlite') {
    return {
      backend: {
        name,
        board: `sqlite://${join(dir, 'jobs.db')}`,
        runs: `sqlite://${join(dir, 'runs.db')}`,
      },
      dispose: async () => undefined,
    };
  }
  const prefixes = new TestPrefixes();
  if (outage) {
    const server = PrivatePostgres.create();
    const url = `${server.url}?schema=campaign`;
    return {
      backend: {
        name,
        board: name === 'postgres' ? url : `${REDIS_URL}?prefix=${prefixes.next()}`,
        runs: url,
        outage: {
          what: `PostgreSQL (private, port ${server.port})`,
          stop: async () => server.stop(),
          start: async () => server.start(),
        },
      },
      dispose: async () => {
        server.destroy();
        if (name === 'redis') await prefixes.dropAll().catch(() => undefined);
      },
    };
  }
  const schemas = new TestSchemas();
  const url = `${POSTGRES_URL}?schema=${schemas.next()}`;
  return {
    backend: {
      name,
      board: name === 'postgres' ? url : `${REDIS_URL}?prefix=${prefixes.next()}`,
      runs: url,
    },
    dispose: async () => {
      await schemas.dropAll().catch(() => undefined);
      if (name === 'redis') await prefixes.dropAll().catch(() => undefined);
    },
  };
}
