import { parse as parseYaml } from 'yaml';
import { findJsonProblem } from '../core/json-safety.ts';
import { DocumentError, type DocumentIssue } from './document-error.ts';

/** Keys that name an object's prototype machinery; refused anywhere in a document. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The largest document accepted, in characters: far more than any hand-written flow. */
export const MAX_DOCUMENT_CHARS = 512 * 1024;

/**
 * Reads a flow document from JSON or YAML text (YAML 1.2 is a superset of JSON, so one parser
 * reads both; duplicate keys are refused). The value is then checked as {@link checkDocumentValue}
 * does. Throws a {@link DocumentError} whose issue names the line and column of a syntax error.
 *
 * @example
 * const value = parseDocumentText('format: taskflow.flow/v1\nname: hello\n...');
 */
export function parseDocumentText(text: string): unknown {
  if (text.length > MAX_DOCUMENT_CHARS) {
    throw new DocumentError([
      {
        code: 'SYNTAX',
        path: '$',
        message: `the document is ${text.length} characters, over the ${MAX_DOCUMENT_CHARS} accepted; split the flow into smaller definitions`,
      },
    ]);
  }
  let value: unknown;
  try {
    // No custom tags and the core schema: dates stay strings, nothing but JSON values is made.
    value = parseYaml(text, { schema: 'core', uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'unreadable';
    throw new DocumentError([
      {
        code: 'SYNTAX',
        path: '$',
        message: `the document is neither valid JSON nor YAML (${message}); fix the text there`,
      },
    ]);
  }
  checkDocumentValue(value);
  return value;
}

/**
 * Refuses a document value holding a key such as `__proto__` (which could reach an object's
 * prototype in code that copies it) or a value JSON cannot store back (`.inf`, NaN), so that
 * what is stored reads back the same.
 */
export function checkDocumentValue(value: unknown): void {
  const issues: DocumentIssue[] = [];
  const key = forbiddenKey(value, '$');
  if (key !== undefined) {
    issues.push({
      code: 'FORBIDDEN_KEY',
      path: key,
      message: `${[...FORBIDDEN_KEYS].join(', ')} are refused as keys, because they can reach an object's prototype; rename it`,
    });
  }
  const problem = findJsonProblem(value, '$');
  if (problem !== undefined) {
    issues.push({ code: 'NOT_STORABLE', path: problem.path, message: problem.reason });
  }
  if (issues.length > 0) throw new DocumentError(issues);
}

function forbiddenKey(value: unknown, path: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = forbiddenKey(item, `${path}[${index}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const child = `${path}[${JSON.stringify(key)}]`;
    if (FORBIDDEN_KEYS.has(key)) return child;
    const found = forbiddenKey((value as Record<string, unknown>)[key], child);
    if (found !== undefined) return found;
  }
  return undefined;
}
