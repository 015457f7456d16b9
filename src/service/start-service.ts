import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Conductor, type ConductorEvent, type ConductorOptions } from '../conductor/conductor.ts';
import { TaskFlowError } from '../core/errors.ts';
import type { FlowRegistry } from '../engine/flow-registry.ts';
import type { JobBoard } from '../jobs/ports.ts';
import { PRUNE_BATCH } from '../persistence/change-feed/change-feed.ts';
import type { RunStore } from '../persistence/ports.ts';
import { isLoopback } from './auth/bearer-auth.ts';
import { EventStreams } from './event-streams.ts';
import { FinishedRuns } from './finished-runs.ts';
import { createServiceApp, type ServiceAppOptions } from './service-app.ts';

/** Options of {@link startService}. */
export interface StartServiceOptions extends ServiceAppOptions {
  readonly runs: RunStore;
  readonly board: JobBoard;
  /** Default 0: a free port, chosen by the system. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Conductors run in this process; 0 makes the service an API only. Default 1. */
  readonly conductors?: number;
  /** Options of each in-process conductor. */
  readonly conductor?: Omit<ConductorOptions, 'board' | 'runs' | 'registry' | 'name' | 'onEvent'>;
  readonly onConductorEvent?: (conductor: string, event: ConductorEvent) => void;
  /** How long `close()` lets responses in flight finish before cutting them. Default 10 s. */
  readonly shutdownGraceMs?: number;
  /**
   * How long the change feed keeps a change (what event streams replay from `Last-Event-ID`);
   * older ones are pruned every hour, and once at start. Default 7 days; 0 keeps them all.
   */
  readonly changeRetentionMs?: number;
}

/** The default of {@link StartServiceOptions.changeRetentionMs}: 7 days. */
export const DEFAULT_CHANGE_RETENTION_MS = 7 * 24 * 3_600_000;
const CHANGE_PRUNE_EVERY_MS = 3_600_000;

/** A service that listens; {@link RunningService.close} stops it. */
export interface RunningService {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly conductors: readonly Conductor[];
  /**
   * Stops accepting connections, lets the requests in flight finish, ends the event streams
   * with a reconnect hint, and stops the conductors
   * (their engines suspend and their jobs go back to the board without an attempt counted).
   * Closes neither the run store nor the board, which the caller opened.
   */
  close(): Promise<void>;
}

/**
 * Serves the `/v1` API over HTTP and runs conductors in the same process.
 *
 * @example
 * const tokens = await openTokenStore('sqlite://.taskflow/runs.db');
 * const feed = await openRunChangeFeed('sqlite://.taskflow/runs.db');
 * const service = await startService({ runs, board, registry, feed, auth: { tokens }, port: 8080 });
 * console.log(`listening on ${service.url}`);
 * process.once('SIGTERM', () => void service.close());
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const host = options.host ?? '127.0.0.1';
  if (options.auth === 'none' && !isLoopback(host)) {
    throw new TaskFlowError(
      'INVALID_ARGUMENT',
      `The service would listen on ${host} without authentication; bind it to a loopback address (127.0.0.1, ::1) or give it a token store.`,
    );
  }
  const streams = new EventStreams();
  // A finished run's answer is kept until its job changes anywhere (or for a second).
  const finishedRuns = options.finishedRuns ?? new FinishedRuns();
  const unsubscribe = await options.board.subscribe((event) => finishedRuns.evict(event.jobId));
  const app = createServiceApp({ ...options, streams, finishedRuns });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    unsubscribe();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const conductors = Array.from({ length: options.conductors ?? 1 }, () => {
    const conductor: Conductor = new Conductor({
      ...options.conductor,
      board: options.board,
      runs: options.runs,
      // Recognised by shape, as the conductor command does: the registry module may use another copy of the library.
      registry: options.registry as FlowRegistry,
      onEvent: (event) => options.onConductorEvent?.(conductor.name, event),
    });
    return conductor;
  });
  const running = conductors.map((conductor) => conductor.run());
  const pruning = pruneChanges(options);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    conductors,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        streams.closeAll();
        await pruning.stop();
        unsubscribe();
        await Promise.all(conductors.map((conductor) => conductor.stop()));
        await Promise.all(running);
        // Responses still in flight get a grace period; connections left after it are cut.
        const grace = setTimeout(
          () => server.closeAllConnections(),
          options.shutdownGraceMs ?? 10_000,
        );
        await closed;
        clearTimeout(grace);
      })();
      return closing;
    },
  };
}

/**
 * Prunes the change feed of changes older than the retention, now and then every hour, in
 * batches; a failure is the service's error log's, and the next round tries again.
 */
function pruneChanges(options: StartServiceOptions): { stop(): Promise<void> } {
  const retention = options.changeRetentionMs ?? DEFAULT_CHANGE_RETENTION_MS;
  if (retention <= 0) return { stop: async () => {} };
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  const prune = async (): Promise<void> => {
    const before = Date.now() - retention;
    try {
      while (!stopped && (await options.feed.prune({ before })) === PRUNE_BATCH) {
        // A full batch: there may be more.
      }
    } catch (error) {
      options.onError?.(error, 'change-feed-pruning');
    }
  };
  const timer = setInterval(() => {
    round = round.then(prune);
  }, CHANGE_PRUNE_EVERY_MS);
  timer.unref();
  round = prune();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await round;
    },
  };
}
