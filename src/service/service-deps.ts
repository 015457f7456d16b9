import type { FlowFactory, FlowRegistry } from '../engine/flow-registry.ts';
import type { JobPoster, JobReader, JobRetention } from '../jobs/ports.ts';
import type { RunJournal, RunReader } from '../persistence/ports.ts';

/**
 * The registry a service serves. Recognised by shape, since a registry module may load
 * another copy of the library. A registry whose flows live in a store (a `DefinitionRegistry`)
 * also has `resolve`, which finds a flow in a given version, loading it when needed.
 */
export type ServiceRegistry = Pick<FlowRegistry, 'ref' | 'build' | 'factories'> & {
  readonly resolve?: (name: string, version?: string) => Promise<FlowFactory | undefined>;
};

/** The jobboard roles the API uses: post runs, read jobs, tidy them. */
export type ServiceBoard = JobPoster & JobReader & JobRetention;

/**
 * What the routes read and write: the run store's reader (and `ensureFlow`, to list a posted
 * run before a conductor opens it), the board, the flows.
 */
export interface ServiceDeps {
  readonly runs: RunReader & Pick<RunJournal, 'ensureFlow'>;
  readonly board: ServiceBoard;
  readonly registry: ServiceRegistry;
}
