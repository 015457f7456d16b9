import { ValidationError } from '../core/errors.ts';
import { issuePath } from '../core/input-schema.ts';
import { Engine } from '../engine/engine.ts';
import type { FlowFactory } from '../engine/flow-registry.ts';
import type { Job, JobStore } from '../jobs/model.ts';
import type { RunJournal } from '../persistence/ports.ts';
import type { FlowCatalog } from './flow-catalog.ts';
import { ProblemError } from './problem.ts';
import type { ServiceBoard, ServiceRegistry } from './service-deps.ts';

/** What `POST /v1/runs` asks for, after its schema has checked the shape. */
export interface RunRequest {
  readonly flow: string;
  readonly version?: string | undefined;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly runId?: string | undefined;
}

/** The longest `Idempotency-Key` accepted (the board stores keys as text). */
const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/**
 * Posts a run as a job on the board, after checking that the flow is served in the version
 * asked for and that the inputs satisfy every requirement of the flow: nothing is stored for a
 * request that would fail at once. A key (the `Idempotency-Key` header, or `runId`) makes a
 * repeated request return the first run's job.
 */
export async function postRun(
  deps: {
    readonly board: ServiceBoard;
    readonly runs: Pick<RunJournal, 'ensureFlow'>;
    readonly registry: ServiceRegistry;
    readonly catalog: FlowCatalog;
  },
  request: RunRequest,
  headerKey: string | undefined,
): Promise<Job> {
  const factory = await deps.catalog.resolve(request.flow, request.version);
  if (request.version !== undefined && request.version !== factory.version) {
    throw new ProblemError(
      409,
      'version-not-served',
      'Flow version not served',
      `Flow "${factory.name}" is served in version ${factory.version}, not ${request.version}; omit "version" or ask for ${factory.version}.`,
    );
  }
  // The body went through checkedJsonBody, which refuses any value JSON cannot hold.
  const inputs = await checkedInputs(factory, request.inputs as JobStore);
  const flowName = checkRequirements(deps.registry, factory.name, factory.version, inputs);
  const idempotencyKey = keyOf(headerKey, request.runId);
  const job = await deps.board.post({
    ...(request.runId === undefined ? {} : { id: request.runId }),
    name: factory.name,
    flow: { name: factory.name, version: factory.version },
    store: inputs,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
  });
  // Stored as the conductor would create it, so that the run is listed before one opens it.
  await deps.runs.ensureFlow(
    {
      id: `job-${job.id}`,
      name: job.name,
      meta: {},
      createdAt: job.createdAt,
      updatedAt: job.createdAt,
    },
    {
      id: job.id,
      logbookId: `job-${job.id}`,
      name: flowName,
      state: 'PENDING',
      store: job.store,
      factory: job.flow,
      meta: {},
      createdAt: job.createdAt,
      updatedAt: job.createdAt,
    },
  );
  return job;
}

/**
 * The inputs as the flow's schema accepts them (its defaults applied), or a 400 naming every
 * input it refuses; the inputs as given when the flow declares no schema.
 */
async function checkedInputs(factory: FlowFactory, inputs: JobStore): Promise<JobStore> {
  if (factory.inputs === undefined) return inputs;
  const checked = await factory.inputs['~standard'].validate(inputs);
  if (checked.issues === undefined) return checked.value as JobStore;
  const errors = checked.issues.map((issue) => ({
    path: ['inputs', issuePath(issue)].filter(Boolean).join('.'),
    message: issue.message,
  }));
  throw new ProblemError(
    400,
    'invalid-input',
    'Invalid input',
    `Flow "${factory.name}" refuses these inputs: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}.`,
    errors,
  );
}

function keyOf(header: string | undefined, runId: string | undefined): string | undefined {
  if (header !== undefined && (header === '' || header.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    throw new ProblemError(
      400,
      'invalid-idempotency-key',
      'Invalid Idempotency-Key',
      `The Idempotency-Key header must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters; send a UUID, for example.`,
    );
  }
  if (header !== undefined && runId !== undefined && header !== runId) {
    throw new ProblemError(
      400,
      'conflicting-keys',
      'Conflicting keys',
      'The Idempotency-Key header and "runId" differ; send one of them, or the same value in both.',
    );
  }
  return header ?? runId;
}

/**
 * Compiles the flow against the inputs as the engine will, without running or storing it;
 * returns the flow's name (what its runs are called).
 */
function checkRequirements(
  registry: ServiceRegistry,
  name: string,
  version: string,
  inputs: JobStore,
): string {
  const flow = registry.build({ name, version }, inputs);
  try {
    new Engine(flow, { store: inputs }).compile();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const missing = [
      ...new Set(
        error.issues
          .filter((issue) => issue.code === 'MISSING_REQUIREMENT' && issue.symbol !== undefined)
          .map((issue) => issue.symbol as string),
      ),
    ];
    if (missing.length === 0) throw error;
    throw new ProblemError(
      400,
      'missing-input',
      'Missing input',
      `Flow "${name}" needs the input(s) ${missing.map((s) => `"${s}"`).join(', ')}, which "inputs" lacks; add ${missing.length === 1 ? 'it' : 'them'} to "inputs".`,
      missing.map((symbol) => ({ path: `inputs.${symbol}`, message: 'required by the flow' })),
    );
  }
  return flow.name;
}
