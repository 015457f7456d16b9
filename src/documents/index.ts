// Flow documents: flows described as JSON or YAML data, compiled into the library's own flows,
// stored as immutable definitions in the run store's database, with http, noop and sleep tasks.
export {
  type CompiledDocument,
  compileDocument,
  type DocumentEnvironment,
} from './compile-document.ts';
export {
  type ConditionEvaluator,
  WorkerConditionEvaluator,
  type WorkerConditionEvaluatorOptions,
} from './condition-evaluator.ts';
export {
  type Definition,
  DefinitionRegistry,
  type DefinitionRegistryOptions,
} from './definition-registry.ts';
export {
  childPath,
  DOCUMENT_ISSUE_CODES,
  DocumentError,
  type DocumentIssue,
  type DocumentIssueCode,
  jsonPath,
} from './document-error.ts';
export {
  type DocumentNode,
  FLOW_DOCUMENT_FORMAT,
  FLOW_TYPES,
  type FlowDocument,
  FlowDocumentSchema,
  type FlowNode,
  flowDocumentJsonSchema,
  HTTP_METHODS,
  RETRY_TYPES,
  TASK_TYPES,
  type TaskNode,
} from './document-schema.ts';
export { evaluateExpression, expressionProblem, MAX_EXPRESSION_STEPS } from './expressions.ts';
export { checkDocumentValue, MAX_DOCUMENT_CHARS, parseDocumentText } from './parse-document.ts';
export {
  canonicalJson,
  type DefinitionStore,
  definitionRow,
  type StoredDefinition,
} from './store/definition-store.ts';
export { createMemoryDefinitionStore } from './store/memory-definition-store.ts';
export { openDefinitionStore } from './store/open-definition-store.ts';
export { allowEntryProblem, hostAllowed } from './task-types/host-allow-list.ts';
export type { HttpEnvironment } from './task-types/http-request.ts';
export { HttpTask } from './task-types/http-task.ts';
export { NoopTask } from './task-types/noop-task.ts';
export { SleepTask } from './task-types/sleep-task.ts';
export { type WorkerEnvironment, WorkerTask } from './task-types/worker-task.ts';
export { createMemoryWorkerTaskQueue } from './workers/memory-worker-task-queue.ts';
export { openWorkerTaskQueue } from './workers/open-worker-task-queue.ts';
export {
  type WakingWorkerTaskQueue,
  type WorkerTaskWakeUps,
  wakingQueue,
} from './workers/waking-queue.ts';
export {
  type SettleResult,
  WORKER_TASK_STATES,
  type WorkerClaimRequest,
  type WorkerOutcome,
  type WorkerTask as QueuedWorkerTask,
  type WorkerTaskOffer,
  type WorkerTaskQueue,
  type WorkerTaskState,
} from './workers/worker-task-queue.ts';
