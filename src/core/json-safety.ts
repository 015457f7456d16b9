/** Why one value inside a larger one cannot be stored exactly as JSON. */
export interface JsonProblem {
  /** Where the value sits, e.g. `result.items[3].when`. */
  readonly path: string;
  /** What it is and how to store it instead, e.g. `is a Date; store date.toISOString() ...`. */
  readonly reason: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Finds the first value inside `value` that would not come back unchanged from
 * `JSON.parse(JSON.stringify(value))`, or returns undefined when there is none.
 * Refused: `undefined`, functions, symbols, BigInt, NaN, ±Infinity, `-0`, Dates, class
 * instances (Map, Set, Buffer, ...), sparse array holes, symbol keys and cycles.
 * Plain objects (including null-prototype ones) and plain arrays are accepted.
 * Shared (non-cyclic) references are accepted; they are stored as copies.
 *
 * @example
 * findJsonProblem({ items: [{ when: new Date() }] }, 'result');
 * // { path: 'result.items[0].when', reason: 'is a Date; store date.toISOString() ...' }
 */
export function findJsonProblem(value: unknown, path: string): JsonProblem | undefined {
  return walk(value, path, new Map());
}

function walk(
  value: unknown,
  path: string,
  ancestors: Map<object, string>,
): JsonProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return numberProblem(value, path);
    case 'undefined':
      return { path, reason: 'is undefined, which JSON drops; omit the key or use null' };
    case 'function':
      return { path, reason: 'is a function; store data, not code' };
    case 'symbol':
      return { path, reason: 'is a symbol, which JSON drops; use a string' };
    case 'bigint':
      return { path, reason: 'is a BigInt, which JSON cannot hold; store value.toString()' };
    case 'object':
      if (value === null) return undefined;
      return objectProblem(value, path, ancestors);
  }
}

function numberProblem(value: number, path: string): JsonProblem | undefined {
  if (Number.isNaN(value))
    return { path, reason: 'is NaN, which JSON stores as null; use null or a string' };
  if (!Number.isFinite(value)) {
    return {
      path,
      reason: `is ${value}, which JSON stores as null; use null, a string or a bound`,
    };
  }
  if (Object.is(value, -0)) return { path, reason: 'is -0, which JSON stores as 0; use 0' };
  return undefined;
}

function objectProblem(
  value: object,
  path: string,
  ancestors: Map<object, string>,
): JsonProblem | undefined {
  const seenAt = ancestors.get(value);
  if (seenAt !== undefined) {
    return {
      path,
      reason: `refers back to ${seenAt} (a cycle), which JSON cannot hold; store an id instead`,
    };
  }
  const kind = shapeOf(value);
  if (kind !== 'array' && kind !== 'object') return { path, reason: kind };
  if (Object.getOwnPropertySymbols(value).length > 0) {
    return { path, reason: 'has symbol-keyed properties, which JSON drops; use string keys' };
  }
  ancestors.set(value, path);
  try {
    return kind === 'array'
      ? arrayProblem(value as unknown[], path, ancestors)
      : entriesProblem(value, path, ancestors);
  } finally {
    ancestors.delete(value);
  }
}

function arrayProblem(
  items: unknown[],
  path: string,
  ancestors: Map<object, string>,
): JsonProblem | undefined {
  for (let index = 0; index < items.length; index += 1) {
    const itemPath = `${path}[${index}]`;
    if (!(index in items))
      return {
        path: itemPath,
        reason: 'is a hole in a sparse array, which JSON stores as null; fill it with null',
      };
    const problem = walk(items[index], itemPath, ancestors);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function entriesProblem(
  value: object,
  path: string,
  ancestors: Map<object, string>,
): JsonProblem | undefined {
  for (const key of Object.keys(value)) {
    const problem = walk((value as Record<string, unknown>)[key], childPath(path, key), ancestors);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** 'array', 'object', or the reason a non-plain object is refused. */
function shapeOf(value: object): string {
  if (Array.isArray(value)) {
    return Object.getPrototypeOf(value) === Array.prototype
      ? 'array'
      : 'is an Array subclass instance; copy it into a plain array';
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return 'object';
  if (value instanceof Date) return 'is a Date; store date.toISOString() or date.getTime()';
  if (value instanceof Map) return 'is a Map; store Object.fromEntries(map) or [...map]';
  if (value instanceof Set) return 'is a Set; store [...set]';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  const label = typeof name === 'string' && name !== '' ? name : 'a class';
  return `is an instance of ${label}, not a plain object; convert it to plain objects and arrays`;
}

function childPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
