export { Conductor, type ConductorEvent, type ConductorOptions } from './conductor/conductor.ts';
export { requestRunAction } from './conductor/run-actions.ts';
export {
  type ArgumentSource,
  Atom,
  type AtomOptions,
  type Inputs,
  type ProvidesSpec,
} from './core/atom.ts';
export { type Clock, systemClock } from './core/clock.ts';
export {
  isRetryable,
  RunCancelledError,
  StateError,
  TaskFlowError,
  type TaskFlowErrorOptions,
  TaskTimeoutError,
  ValidationError,
  type ValidationIssue,
} from './core/errors.ts';
export {
  Failure,
  FailureError,
  type FailureJson,
  type JsonValue,
  WrappedFailure,
} from './core/failure.ts';
export type { FlowRef } from './core/flow-ref.ts';
export type { InputCheck, InputIssue, InputSchema } from './core/input-schema.ts';
export { findJsonProblem, type JsonProblem } from './core/json-safety.ts';
export {
  type AppliedRequest,
  ATOM_ACTIONS,
  OPERATOR_ACTIONS,
  type OperatorAction,
  type OperatorRequest,
} from './core/operator-request.ts';
export type { Page } from './core/page.ts';
export {
  AlwaysRevert,
  AlwaysRevertAll,
  type Backoff,
  ForEach,
  type ForEachOptions,
  NoValuesLeftError,
  ParameterizedForEach,
  type ParameterizedForEachOptions,
  RETRY_DECISIONS,
  Retry,
  type RetryAttempt,
  type RetryDecision,
  type RetryHistory,
  type RetryOptions,
  Times,
  type TimesOptions,
} from './core/retry.ts';
export {
  ATOM_STATES,
  type AtomKind,
  type AtomState,
  FLOW_STATES,
  type FlowState,
  INTENTIONS,
  type Intention,
} from './core/states.ts';
export {
  type AtomContext,
  type ExecutionOutcome,
  type LeaseFence,
  type MapTaskOptions,
  mapTask,
  type ReduceTaskOptions,
  type RevertContext,
  reduceTask,
  Task,
  type TaskDefinition,
  type TaskOptions,
  task,
} from './core/task.ts';
export { redactUrl } from './drivers/connection-url.ts';
export type { AtomSnapshot } from './engine/atom-record.ts';
export { auditList, type PersistenceOptions } from './engine/durable-run.ts';
export { Engine, type EngineOptions, type RunResult, runFlow } from './engine/engine.ts';
export type { EngineEvent, Listener } from './engine/events.ts';
export type { ExecutionRequest, Executor } from './engine/executor.ts';
export { type FlowFactory, FlowRegistry } from './engine/flow-registry.ts';
export { MissingInputError } from './engine/inputs.ts';
export type { HeldLease } from './engine/lease-keeper.ts';
export {
  CaptureListener,
  DurationListener,
  describeEvent,
  type Logger,
  loggingListener,
  printingListener,
} from './engine/listeners.ts';
export {
  ACTION_FLOW_STATES,
  actsWhileRunning,
  operatorRequest,
} from './engine/operator-actions.ts';
export type { RevertOrder, RevertScope } from './engine/run-context.ts';
export {
  continueRun,
  type DurableRunOptions,
  fetchRun,
  type RegisteredRunOptions,
  type RunValues,
  resumeRun,
  startRun,
} from './engine/runs.ts';
export type { EngineStatistics } from './engine/statistics.ts';
export * from './jobs/index.ts';
export { Flow, type FlowChild, type FlowKind, type FlowOptions } from './patterns/flow.ts';
export {
  type FlowGraphEdge,
  type FlowGraphNode,
  type GraphExportOptions,
  toDot,
  toGraph,
  toMermaid,
} from './patterns/graph-export.ts';
export {
  DECIDER_DEPTHS,
  type Decider,
  type DeciderDepth,
  type ExplicitLink,
  type GraphEdge,
  GraphFlow,
  type GraphFlowOptions,
  graphFlow,
  type LinkOptions,
} from './patterns/graph-flow.ts';
export { LinearFlow, linearFlow } from './patterns/linear-flow.ts';
export { UnorderedFlow, unorderedFlow } from './patterns/unordered-flow.ts';
export {
  type ChangeQuery,
  MAX_CHANGES_PER_READ,
  type RunChange,
  type RunChangeFeed,
} from './persistence/change-feed/change-feed.ts';
export { openRunChangeFeed } from './persistence/change-feed/open-change-feed.ts';
export * from './persistence/index.ts';
