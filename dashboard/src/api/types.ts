// The shapes of the service's /v1 API, as its OpenAPI document (/v1/openapi.json) describes them.

import type { InputsSchema } from '../flows/run-inputs.ts';

export const FLOW_STATES = [
  'PENDING',
  'RUNNING',
  'SUCCESS',
  'FAILURE',
  'REVERTED',
  'SUSPENDING',
  'SUSPENDED',
  'RESUMING',
] as const;
export type FlowState = (typeof FLOW_STATES)[number];

export const JOB_STATES = ['UNCLAIMED', 'CLAIMED', 'COMPLETE', 'DEAD_LETTER'] as const;
export type JobState = (typeof JOB_STATES)[number];

export type Json = unknown;

export interface FlowRef {
  readonly name: string;
  readonly version: string;
}

export type GraphNodeKind = 'task' | 'retry' | 'linear' | 'unordered' | 'graph';

export interface GraphNode {
  readonly id: string;
  readonly name: string;
  readonly kind: GraphNodeKind;
  readonly parent: string | null;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string | null;
  readonly decider: boolean;
}

export interface FlowGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface Flow {
  readonly name: string;
  readonly version: string;
  readonly resumes: readonly string[];
  readonly requires: readonly string[];
  readonly provides: readonly string[];
  /** The JSON Schema of the run's inputs, when the flow declares one. */
  readonly inputSchema?: InputsSchema | null;
  readonly graph: FlowGraph;
}

export interface Job {
  readonly id: string;
  readonly name: string;
  readonly flow: FlowRef;
  readonly store: Readonly<Record<string, Json>>;
  readonly priority: number;
  readonly idempotencyKey: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly state: JobState;
  readonly owner: string | null;
  readonly leaseExpiresAt: number | null;
  readonly token: number;
  readonly attempts: number;
  readonly outcome: Readonly<Record<string, Json>> | null;
  readonly deadLetterReason: string | null;
  /** An operator's request waiting for the engine that runs the job. */
  readonly request?: OperatorAction | null;
}

export interface Failure {
  readonly type: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Json;
  readonly cause?: Failure;
  /** Shown when the service sends it; the service strips stacks today. */
  readonly stack?: string;
}

export interface Atom {
  readonly name: string;
  readonly kind: 'task' | 'retry';
  readonly version: string;
  readonly state: string;
  readonly intention: string;
  readonly attempts: number;
  readonly progress: number;
  readonly result?: Json;
  readonly failure?: Failure;
  readonly revertResult?: Json;
  readonly revertFailure?: Failure;
  readonly history?: readonly {
    readonly result: Json;
    readonly failures: Readonly<Record<string, Failure>>;
  }[];
  readonly completion?: number;
  readonly updatedAt: number;
  readonly meta: Readonly<Record<string, Json>>;
  /** Operator actions this atom allows, when the service says so per atom. */
  readonly allowedActions?: readonly string[];
}

export interface RunSummary {
  readonly id: string;
  readonly name: string;
  readonly state: FlowState;
  readonly flow: FlowRef | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Run extends RunSummary {
  readonly inputs: Readonly<Record<string, Json>>;
  readonly meta: Readonly<Record<string, Json>>;
  readonly atoms: readonly Atom[];
  readonly job: Job | null;
  /** The operator actions the run's state allows (absent from services without them). */
  readonly allowedActions?: readonly string[];
  /** The audit list: every operator request applied or refused, oldest first. */
  readonly actions?: readonly OperatorAction[];
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

export interface Conductor {
  readonly name: string;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly meta: Readonly<Record<string, Json>>;
  readonly claims: readonly {
    readonly jobId: string;
    readonly token: number;
    readonly leaseExpiresAt: number;
  }[];
}

/** One event of `GET /v1/events` or `GET /v1/runs/{id}/events`. */
export interface RunChange {
  readonly id: string;
  readonly runId: string;
  readonly atom: string | null;
  readonly state: string;
  readonly intention: string | null;
  readonly progress: number | null;
  readonly at: number;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly requestId?: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}

/** An operator's request, as the service records it (pending on the job, or in the audit list). */
export interface OperatorAction {
  readonly id: string;
  readonly action: string;
  readonly by: string;
  readonly at: number;
  readonly atom?: string;
  readonly revert?: boolean;
  readonly result?: Json;
  readonly reason?: string;
  /** When the engine applied (or refused) it; absent while pending. */
  readonly appliedAt?: number;
  /** Why it did not apply, if it did not. */
  readonly refused?: string;
}
