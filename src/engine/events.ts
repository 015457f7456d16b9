import type { Failure, JsonValue } from '../core/failure.ts';
import type { RetryDecision } from '../core/retry.ts';
import type { AtomKind, AtomState, FlowState } from '../core/states.ts';

/** Everything an engine publishes while it runs. */
export type EngineEvent =
  | {
      readonly type: 'flow';
      readonly flow: string;
      readonly from: FlowState;
      readonly to: FlowState;
    }
  | {
      readonly type: 'atom';
      readonly atom: string;
      readonly kind: AtomKind;
      readonly from: AtomState;
      readonly to: AtomState;
      /** The result, with SUCCESS; the revert's result, with REVERTED. */
      readonly result?: unknown;
      /** With FAILURE and REVERT_FAILURE. */
      readonly failure?: Failure;
    }
  | {
      readonly type: 'progress';
      readonly atom: string;
      readonly progress: number;
      readonly details?: JsonValue;
    }
  | {
      readonly type: 'retry';
      readonly retry: string;
      readonly decision: RetryDecision;
      /** 1-based attempt of the retry's flow that failed. */
      readonly attempt: number;
      readonly failures: readonly Failure[];
    };

/** Receives engine events. A listener that throws is reported and never breaks the run. */
export type Listener = (event: EngineEvent) => void;

/** Fan-out of events to listeners, isolating the run from listener errors. */
export class EventBus {
  readonly #listeners: Listener[] = [];
  readonly #onError: (error: unknown, event: EngineEvent) => void;

  constructor(onError: (error: unknown, event: EngineEvent) => void) {
    this.#onError = onError;
  }

  /** True when someone listens: lets the engine skip building events nobody reads. */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners.splice(index, 1);
    };
  }

  emit(event: EngineEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        try {
          this.#onError(error, event);
        } catch {
          // The error reporter itself failed; nothing sensible is left to do, and the run goes on.
        }
      }
    }
  }
}
