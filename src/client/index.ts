// Clients of the workflow service's HTTP API (`taskflow-ts/client`): today, the worker helper.
export {
  type ClaimedTask,
  runTaskWorker,
  type TaskHandler,
  type TaskWorkerOptions,
} from './task-worker.ts';
