// taskflow-ts/executors: where tasks run besides the engine's own thread.
export { ThreadExecutor, type ThreadExecutorOptions } from './thread-executor.ts';
