import type { EngineEvent, Listener } from './events.ts';

/** Where logging and printing listeners write. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** One line per event, in TaskFlow's capture notation: `name.t RUNNING`, `name.r SUCCESS(1)`, `flow.f SUCCESS`. */
export function describeEvent(event: EngineEvent, withValues = true): string {
  switch (event.type) {
    case 'flow':
      return `${event.flow}.f ${event.to}`;
    case 'atom': {
      const suffix = event.kind === 'task' ? 't' : 'r';
      if (!withValues) return `${event.atom}.${suffix} ${event.to}`;
      if (event.failure)
        return `${event.atom}.${suffix} ${event.to}(${event.failure.type}: ${event.failure.message})`;
      if ('result' in event)
        return `${event.atom}.${suffix} ${event.to}(${formatValue(event.result)})`;
      return `${event.atom}.${suffix} ${event.to}`;
    }
    case 'progress':
      return `${event.atom}.t PROGRESS(${event.progress})`;
    case 'retry':
      return `${event.retry}.r DECIDED(${event.decision}, attempt ${event.attempt})`;
  }
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Records events for tests and debugging.
 *
 * @example
 * const capture = new CaptureListener();
 * await new Engine(flow, { listeners: [capture.listener] }).run();
 * capture.lines(); // ['flow.f RUNNING', 't1.t RUNNING', 't1.t SUCCESS(1)', ...]
 */
export class CaptureListener {
  readonly events: EngineEvent[] = [];
  readonly #types: ReadonlySet<EngineEvent['type']>;

  /** By default captures flow and atom state changes; pass other types to capture them too. */
  constructor(types: readonly EngineEvent['type'][] = ['flow', 'atom']) {
    this.#types = new Set(types);
  }

  readonly listener: Listener = (event) => {
    if (this.#types.has(event.type)) this.events.push(event);
  };

  /** The captured events as lines; `withValues: false` drops results and failures. */
  lines(options: { readonly withValues?: boolean } = {}): string[] {
    return this.events.map((event) => describeEvent(event, options.withValues ?? true));
  }

  clear(): void {
    this.events.length = 0;
  }
}

/** Logs atom failures and flow outcomes as warnings, and every other state change as info. */
export function loggingListener(logger: Logger): Listener {
  return (event) => {
    const line = describeEvent(event);
    const bad =
      (event.type === 'atom' && (event.to === 'FAILURE' || event.to === 'REVERT_FAILURE')) ||
      (event.type === 'flow' && (event.to === 'FAILURE' || event.to === 'REVERTED'));
    if (bad) logger.warn(line);
    else logger.info(line);
  };
}

/** Prints each event as one line (to stdout by default). */
export function printingListener(
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Listener {
  return (event) => write(describeEvent(event));
}

/**
 * Measures how long each atom executed and reverted, and how long the flow ran.
 *
 * @example
 * const timing = new DurationListener();
 * await new Engine(flow, { listeners: [timing.listener] }).run();
 * timing.durations.get('boot')?.executeMs;
 */
export class DurationListener {
  readonly durations = new Map<
    string,
    { executeMs?: number | undefined; revertMs?: number | undefined }
  >();
  flowMs: number | undefined;
  readonly #started = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  readonly listener: Listener = (event) => {
    if (event.type === 'flow') {
      if (event.to === 'RUNNING') this.#started.set('\u0000flow', this.#now());
      else if (event.from === 'RUNNING' || event.from === 'SUSPENDING')
        this.flowMs = this.#elapsed('\u0000flow');
      return;
    }
    if (event.type !== 'atom') return;
    if (event.to === 'RUNNING' || event.to === 'REVERTING') {
      this.#started.set(event.atom, this.#now());
      return;
    }
    const entry = this.durations.get(event.atom) ?? {};
    if (event.from === 'RUNNING') entry.executeMs = this.#elapsed(event.atom);
    else if (event.from === 'REVERTING') entry.revertMs = this.#elapsed(event.atom);
    else return;
    this.durations.set(event.atom, entry);
  };

  #elapsed(key: string): number | undefined {
    const started = this.#started.get(key);
    return started === undefined ? undefined : this.#now() - started;
  }
}
