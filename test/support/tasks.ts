import {
  CaptureListener,
  Engine,
  type EngineOptions,
  type Flow,
  type Task,
  task,
} from '../../src/index.ts';

/** A shared log of execute and revert calls, in call order. */
export type CallLog = string[];

export interface RecordingOptions {
  readonly provides?: string | readonly string[];
  readonly requires?: readonly string[];
  readonly result?: unknown;
  readonly fail?: boolean | string;
  readonly revertFails?: boolean;
  readonly priority?: number;
  readonly delayMs?: number;
}

/** A task that logs "name" on execute and "name~" on revert, returning `result` (its name by default). */
export function recording(name: string, log: CallLog, options: RecordingOptions = {}): Task {
  return task({
    name,
    ...(options.provides === undefined ? {} : { provides: options.provides }),
    ...(options.requires === undefined ? {} : { requires: options.requires }),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    execute: async () => {
      log.push(name);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (options.fail)
        throw new Error(typeof options.fail === 'string' ? options.fail : `Woot from ${name}`);
      return options.result === undefined ? name : options.result;
    },
    revert: () => {
      log.push(`${name}~`);
      if (options.revertFails) throw new Error(`Gotcha from ${name} revert`);
      return `${name} undone`;
    },
  });
}

/** Runs a flow capturing flow and atom events; returns the engine, the lines and the error if it failed. */
export async function capture(
  flow: Flow,
  options: EngineOptions = {},
): Promise<{ engine: Engine; lines: string[]; error: unknown }> {
  const listener = new CaptureListener();
  const engine = new Engine(flow, {
    ...options,
    listeners: [listener.listener, ...(options.listeners ?? [])],
  });
  let error: unknown;
  try {
    await engine.run();
  } catch (e) {
    error = e;
  }
  return { engine, lines: listener.lines({ withValues: false }), error };
}
