import type { JsonValue } from '../core/failure.ts';
import { childPath, type DocumentIssue } from './document-error.ts';
import { evaluateExpression, expressionProblem } from './expressions.ts';

// Templates of `http` tasks: text with `{{ expression }}` parts, each a JSONata expression over
// the task's inputs (bindings such as $result and $secrets come in by name).

/** A piece of a template: literal text, or a JSONata expression. */
type Part = { readonly text: string } | { readonly expression: string };

/** A parsed `{{ ... }}` template. */
export interface Template {
  readonly source: string;
  readonly parts: readonly Part[];
}

/** A JSON value whose strings are templates. */
export type JsonTemplate =
  | { readonly kind: 'template'; readonly template: Template }
  | { readonly kind: 'value'; readonly value: JsonValue }
  | { readonly kind: 'array'; readonly items: readonly JsonTemplate[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, JsonTemplate])[] };

const PLACEHOLDER = /\{\{([\s\S]*?)\}\}/g;

/**
 * Parses `source` into a template, adding an issue at `path` for each expression that is not
 * JSONata; undefined when there was one.
 *
 * @example
 * parseTemplate('/volumes/{{ volumeId }}', '$.url', issues);
 */
export function parseTemplate(
  source: string,
  path: string,
  issues: DocumentIssue[],
): Template | undefined {
  const parts: Part[] = [];
  let last = 0;
  let failed = false;
  for (const match of source.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push({ text: source.slice(last, match.index) });
    const expression = (match[1] as string).trim();
    const problem = expression === '' ? 'nothing' : expressionProblem(expression);
    if (problem !== undefined) {
      failed = true;
      issues.push({
        code: 'EXPRESSION',
        path,
        message: `the template ${JSON.stringify(match[0])} holds ${problem}; write a JSONata expression between {{ and }}`,
      });
    }
    parts.push({ expression });
    last = match.index + match[0].length;
  }
  if (last < source.length) parts.push({ text: source.slice(last) });
  return failed ? undefined : { source, parts };
}

/** True when the template has expressions (is not plain text). */
export function hasExpressions(template: Template): boolean {
  return template.parts.some((part) => 'expression' in part);
}

/** The expressions of a template, in order. */
export function expressionsOf(template: Template): string[] {
  return template.parts.flatMap((part) => ('expression' in part ? [part.expression] : []));
}

/**
 * Renders a template to text; `encode` is applied to each expression's value (URLs encode
 * them). An expression with no value is an error naming it, not an empty string.
 */
export async function renderText(
  template: Template,
  input: unknown,
  bindings: Readonly<Record<string, unknown>>,
  encode: (text: string) => string = (text) => text,
): Promise<string> {
  let out = '';
  for (const part of template.parts) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    const value = await evaluateExpression(part.expression, input, bindings);
    if (value === undefined || value === null) {
      throw new TypeError(
        `the template {{ ${part.expression} }} in ${JSON.stringify(template.source)} has no value for these inputs; check the input names it reads`,
      );
    }
    out += encode(typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

/** Parses every string of a JSON value as a template, adding issues at their paths. */
export function parseJsonTemplate(
  value: JsonValue,
  path: string,
  issues: DocumentIssue[],
): JsonTemplate {
  if (typeof value === 'string') {
    const template = parseTemplate(value, path, issues);
    return template === undefined || !hasExpressions(template)
      ? { kind: 'value', value }
      : { kind: 'template', template };
  }
  if (Array.isArray(value)) {
    return {
      kind: 'array',
      items: value.map((item, index) => parseJsonTemplate(item, `${path}[${index}]`, issues)),
    };
  }
  if (typeof value === 'object' && value !== null) {
    return {
      kind: 'object',
      entries: Object.entries(value).map(
        ([key, item]) =>
          [key, parseJsonTemplate(item as JsonValue, childPath(path, key), issues)] as const,
      ),
    };
  }
  return { kind: 'value', value };
}

/**
 * Renders a JSON template: a string that is one `{{ expression }}` and nothing else becomes
 * the expression's value itself (a number stays a number); other templates become text.
 */
export async function renderJson(
  template: JsonTemplate,
  input: unknown,
  bindings: Readonly<Record<string, unknown>>,
): Promise<JsonValue> {
  switch (template.kind) {
    case 'value':
      return template.value;
    case 'template': {
      const [only, ...rest] = template.template.parts;
      if (only !== undefined && 'expression' in only && rest.length === 0) {
        const value = await evaluateExpression(only.expression, input, bindings);
        return (value ?? null) as JsonValue;
      }
      return renderText(template.template, input, bindings);
    }
    case 'array':
      return Promise.all(template.items.map((item) => renderJson(item, input, bindings)));
    case 'object': {
      const out: Record<string, JsonValue> = {};
      for (const [key, item] of template.entries) {
        Object.defineProperty(out, key, {
          value: await renderJson(item, input, bindings),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
}
