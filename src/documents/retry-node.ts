import {
  AlwaysRevert,
  AlwaysRevertAll,
  type Backoff,
  ForEach,
  ParameterizedForEach,
  type Retry,
  type RetryOptions,
  Times,
} from '../core/retry.ts';
import type { RetryNode } from './document-schema.ts';

/**
 * The library retry a document's `retry` describes. Throws the library's `INVALID_DEFINITION`
 * error for options it refuses (the compiler reports it at the retry's path).
 *
 * @example
 * buildRetry({ type: 'times', name: 'again', attempts: 3 }); // a Times retry
 */
export function buildRetry(node: RetryNode): Retry {
  const options: RetryOptions<Record<string, unknown>, unknown> = {
    name: node.name,
    ...(node.requires === undefined ? {} : { requires: node.requires }),
    ...(node.optional === undefined ? {} : { optional: node.optional }),
    ...(node.rebind === undefined ? {} : { rebind: node.rebind }),
    ...(node.inject === undefined ? {} : { inject: node.inject }),
    ...(node.version === undefined ? {} : { version: node.version }),
    ...(node.provides === undefined ? {} : { provides: node.provides }),
    ...('backoff' in node && node.backoff !== undefined
      ? { backoff: backoffOf(node.backoff) }
      : {}),
  };
  switch (node.type) {
    case 'times':
      return new Times({ ...options, attempts: node.attempts, revertAll: node.revertAll === true });
    case 'forEach':
      return new ForEach({ ...options, values: node.values, revertAll: node.revertAll === true });
    case 'parameterizedForEach': {
      // It requires "values" itself; rebind that argument to read another symbol.
      const { requires: _requires, ...rest } = options;
      return new ParameterizedForEach({ ...rest, revertAll: node.revertAll === true });
    }
    case 'alwaysRevert':
      return new AlwaysRevert(options);
    case 'alwaysRevertAll':
      return new AlwaysRevertAll(options);
  }
}

function backoffOf(node: NonNullable<Extract<RetryNode, { type: 'times' }>['backoff']>): Backoff {
  return {
    initialMs: node.initialMs,
    ...(node.factor === undefined ? {} : { factor: node.factor }),
    ...(node.maxMs === undefined ? {} : { maxMs: node.maxMs }),
    ...(node.jitter === undefined ? {} : { jitter: node.jitter }),
  };
}
