import type { Failure, JsonValue } from '../core/failure.ts';
import type { AtomState } from '../core/states.ts';
import type { AtomRecord } from './atom-record.ts';
import type { EngineEvent, EventBus } from './events.ts';
import type { Checkpoint } from './run-context.ts';

/**
 * Publishes a run's events. With persistence, state events wait until the write they describe
 * is on disk, so a listener never sees a SUCCESS that a crash could take back; a task's own
 * progress reports are information, not state, and go out at once.
 */
export class RunEvents {
  readonly #bus: EventBus;
  readonly #checkpoint: Checkpoint;
  readonly #deferred: EngineEvent[] = [];

  constructor(bus: EventBus, checkpoint: Checkpoint) {
    this.#bus = bus;
    this.#checkpoint = checkpoint;
  }

  /** An event now, or, with persistence, once the state it describes is written. */
  readonly publish = (event: EngineEvent): void => {
    if (this.#checkpoint.durable) this.#deferred.push(event);
    else this.#bus.emit(event);
  };

  /** The record moved from `from` to its current state. */
  atomChanged(
    record: AtomRecord,
    from: AtomState,
    extra?: { result?: unknown; failure?: Failure },
  ): void {
    if (!this.#bus.active) return;
    this.publish({
      type: 'atom',
      atom: record.atom.name,
      kind: record.atom.kind,
      from,
      to: record.state,
      ...extra,
    });
  }

  /** Progress the engine itself reports (0 at the start, 1 at the end), as state. */
  progress(record: AtomRecord, progress: number): void {
    if (this.#bus.active) this.publish(progressEvent(record, progress, undefined));
  }

  /** Progress reported by the atom's own code: published at once. */
  readonly reportedProgress = (
    record: AtomRecord,
    progress: number,
    details: JsonValue | undefined,
  ): void => {
    if (this.#bus.active) this.#bus.emit(progressEvent(record, progress, details));
  };

  /** Publishes the events that were waiting for a write. */
  release(): void {
    if (this.#deferred.length === 0) return;
    for (const event of this.#deferred.splice(0)) this.#bus.emit(event);
  }

  /** Writes what was staged, then publishes the events that were waiting for it. */
  flush(options?: { readonly release?: boolean }): Promise<void> | undefined {
    const writing = this.#checkpoint.flush(options);
    if (!writing) {
      this.release();
      return undefined;
    }
    return writing.then(() => this.release());
  }
}

function progressEvent(
  record: AtomRecord,
  progress: number,
  details: JsonValue | undefined,
): EngineEvent {
  return {
    type: 'progress',
    atom: record.atom.name,
    progress,
    ...(details === undefined ? {} : { details }),
  };
}
