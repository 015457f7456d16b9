import { TaskFlowError } from '../core/errors.ts';

/** What kind of problem a flow document has. */
export const DOCUMENT_ISSUE_CODES = [
  'SYNTAX',
  'SCHEMA',
  'FORBIDDEN_KEY',
  'NOT_STORABLE',
  'DUPLICATE_NAME',
  'UNKNOWN_LINK',
  'CYCLE',
  'MISSING_REQUIREMENT',
  'AMBIGUOUS_PROVIDER',
  'INVALID_DEFINITION',
  'EXPRESSION',
  'BAD_URL',
  'HOST_NOT_ALLOWED',
  'UNKNOWN_SECRET',
  'NAME_TAKEN',
] as const;
export type DocumentIssueCode = (typeof DOCUMENT_ISSUE_CODES)[number];

/** One problem of a flow document: where it is (a JSON path from `$`), what, and the fix. */
export interface DocumentIssue {
  readonly code: DocumentIssueCode;
  /** E.g. `$.flow.children[2].url`. */
  readonly path: string;
  readonly message: string;
}

/**
 * A flow document was refused; `issues` lists every problem found, each with its JSON path.
 *
 * @example
 * try {
 *   compileDocument(text, environment);
 * } catch (error) {
 *   if (error instanceof DocumentError) for (const i of error.issues) console.log(i.path, i.message);
 * }
 */
export class DocumentError extends TaskFlowError {
  readonly issues: readonly DocumentIssue[];

  constructor(issues: readonly DocumentIssue[]) {
    const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join('\n');
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super('INVALID_DOCUMENT', `The flow document has ${count}:\n${lines}`);
    this.issues = issues;
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A JSON path from `$` to a place in a document, as issues report it.
 *
 * @example
 * jsonPath(['flow', 'children', 2, 'url']); // '$.flow.children[2].url'
 */
export function jsonPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((path, segment) => childPath(path, segment), '$');
}

/**
 * The path of a key or index below `path`.
 *
 * @example
 * childPath('$.flow', 'children'); // '$.flow.children'
 * childPath('$.inject', 'a-b'); // '$.inject["a-b"]'
 */
export function childPath(path: string, segment: PropertyKey): string {
  if (typeof segment === 'number') return `${path}[${segment}]`;
  if (typeof segment === 'string' && IDENTIFIER.test(segment)) return `${path}.${segment}`;
  return `${path}[${JSON.stringify(String(segment))}]`;
}
