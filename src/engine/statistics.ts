/** Where a run spent its time and what it did. Times are milliseconds. */
export interface EngineStatistics {
  compileMs: number;
  validateMs: number;
  /** Wall time inside `run()`, reverting included. */
  runMs: number;
  /** Wall time from the first revert started to the last one finished. */
  revertMs: number;
  executed: number;
  succeeded: number;
  failed: number;
  reverted: number;
  ignored: number;
  retried: number;
}

export function newStatistics(): EngineStatistics {
  return {
    compileMs: 0,
    validateMs: 0,
    runMs: 0,
    revertMs: 0,
    executed: 0,
    succeeded: 0,
    failed: 0,
    reverted: 0,
    ignored: 0,
    retried: 0,
  };
}
