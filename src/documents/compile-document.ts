import type { Atom } from '../core/atom.ts';
import { TaskFlowError, ValidationError, type ValidationIssue } from '../core/errors.ts';
import type { Retry } from '../core/retry.ts';
import type { Task } from '../core/task.ts';
import { Engine } from '../engine/engine.ts';
import type { Flow, FlowChild } from '../patterns/flow.ts';
import { type ExplicitLink, graphFlow } from '../patterns/graph-flow.ts';
import { linearFlow } from '../patterns/linear-flow.ts';
import { unorderedFlow } from '../patterns/unordered-flow.ts';
import type { ConditionEvaluator } from './condition-evaluator.ts';
import { childPath, DocumentError, type DocumentIssue, jsonPath } from './document-error.ts';
import {
  type DocumentNode,
  type FlowDocument,
  FlowDocumentSchema,
  type FlowNode,
  type LinkNode,
  type RetryNode,
  TASK_TYPES,
  type TaskNode,
} from './document-schema.ts';
import { expressionProblem } from './expressions.ts';
import { checkDocumentValue } from './parse-document.ts';
import { buildRetry } from './retry-node.ts';
import type { HttpEnvironment } from './task-types/http-request.ts';
import { HttpTask } from './task-types/http-task.ts';
import { NoopTask } from './task-types/noop-task.ts';
import { SleepTask } from './task-types/sleep-task.ts';
import { type WorkerEnvironment, WorkerTask } from './task-types/worker-task.ts';

/** What compiling a document depends on: the service's configuration of its task types. */
export interface DocumentEnvironment {
  readonly http: HttpEnvironment;
  /** The queue of `worker` tasks; a document with worker tasks is refused without one. */
  readonly workers?: WorkerEnvironment;
  /** Evaluates link conditions for the engine's deciders. */
  readonly conditions: ConditionEvaluator;
}

/** A flow document that passed every check, and the flow it describes. */
export interface CompiledDocument {
  readonly document: FlowDocument;
  readonly flow: Flow;
}

/**
 * Checks a flow document (already parsed from JSON or YAML) and builds the library flow it
 * describes: first its JSON Schema, then what the engine validates for code flows (duplicate
 * names, cycles, missing requirements, ambiguous providers), link conditions and templates
 * (JSONata syntax), and `http` URLs against the allow-list. Throws a {@link DocumentError}
 * listing every problem found, each with its JSON path.
 *
 * @example
 * const { flow } = compileDocument(parseDocumentText(text), environment);
 * await new Engine(flow, { store: { size: 10 } }).run();
 */
export function compileDocument(
  value: unknown,
  environment: DocumentEnvironment,
): CompiledDocument {
  checkDocumentValue(value);
  const parsed = FlowDocumentSchema.safeParse(value);
  if (!parsed.success) {
    throw new DocumentError(
      parsed.error.issues.map((issue) => ({
        code: 'SCHEMA',
        path: jsonPath(issue.path),
        message: issue.message,
      })),
    );
  }
  const document = parsed.data;
  const compiler = new DocumentCompiler(environment);
  const flow = compiler.flow(document.flow, '$.flow', document.name);
  if (flow === undefined || compiler.issues.length > 0) throw new DocumentError(compiler.issues);
  const issues = compiler.engineIssues(flow, document.inputs ?? []);
  if (issues.length > 0) throw new DocumentError(issues);
  return { document, flow };
}

/** One pass over a document's tree, building flows and recording every problem with its path. */
class DocumentCompiler {
  readonly issues: DocumentIssue[] = [];
  readonly #environment: DocumentEnvironment;
  /** Where each atom and flow name is defined, for issues found later by name. */
  readonly #paths = new Map<string, string>();

  constructor(environment: DocumentEnvironment) {
    this.#environment = environment;
  }

  flow(node: FlowNode, path: string, name: string): Flow | undefined {
    const before = this.issues.length;
    const retry = node.retry === undefined ? undefined : this.#retry(node.retry, `${path}.retry`);
    const children = node.children.map((child, index) =>
      this.#child(child, childPath(childPath(path, 'children'), index), `${name}.${index}`),
    );
    if (!this.#paths.has(name)) this.#paths.set(name, path);
    const links =
      node.type === 'graph'
        ? this.#links(node.links ?? [], node.children, name, `${path}.links`)
        : [];
    if (this.issues.length > before) return undefined;
    const built = children as FlowChild[];
    const options = retry === undefined ? {} : { retry };
    switch (node.type) {
      case 'linear':
        return linearFlow(name, built, options);
      case 'unordered':
        return unorderedFlow(name, built, options);
      case 'graph': {
        try {
          return graphFlow(name, built, { ...options, links });
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          for (const issue of error.issues) {
            this.issues.push({
              code: 'CYCLE',
              path: node.links === undefined ? `${path}.children` : `${path}.links`,
              message: issue.message,
            });
          }
          return undefined;
        }
      }
    }
  }

  /** What the engine finds in the built flow, given the document's declared inputs. */
  engineIssues(flow: Flow, inputs: readonly string[]): DocumentIssue[] {
    const store = Object.fromEntries(inputs.map((input) => [input, null]));
    try {
      new Engine(flow, { store }).compile();
      return [];
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return error.issues.map((issue) => this.#fromEngine(issue));
    }
  }

  #fromEngine(issue: ValidationIssue): DocumentIssue {
    const path = (issue.atom === undefined ? undefined : this.#paths.get(issue.atom)) ?? '$.flow';
    if (issue.code === 'MISSING_REQUIREMENT') {
      return {
        code: 'MISSING_REQUIREMENT',
        path,
        message: `"${issue.atom}" requires "${issue.symbol}", but no task before it provides it and it is not among the document's "inputs"; add a task providing it, list "${issue.symbol}" in "inputs", inject it, or give it a default in "optional"`,
      };
    }
    const code =
      issue.code === 'AMBIGUOUS_PROVIDER' || issue.code === 'CYCLE'
        ? issue.code
        : 'INVALID_DEFINITION';
    return { code, path, message: issue.message };
  }

  #child(node: DocumentNode, path: string, defaultName: string): FlowChild | undefined {
    switch (node.type) {
      case 'linear':
      case 'unordered':
      case 'graph': {
        const name = nodeName(node, defaultName);
        this.#claimName(name, path);
        return this.flow(node, path, name);
      }
      case 'http':
      case 'noop':
      case 'sleep':
      case 'worker':
        this.#claimName(node.name, path);
        return this.#task(node, path);
    }
  }

  #task(node: TaskNode, path: string): Task | undefined {
    const args = new Set([...(node.requires ?? []), ...Object.keys(node.optional ?? {})]);
    for (const key of Object.keys(node.inject ?? {})) {
      if (args.has(key)) continue;
      this.issues.push({
        code: 'INVALID_DEFINITION',
        path: childPath(childPath(path, 'inject'), key),
        message: `"${key}" is injected but is not an argument of "${node.name}"; add it to "requires" or remove it from "inject"`,
      });
    }
    return this.#atom(path, () => {
      switch (node.type) {
        case 'http':
          return HttpTask.parse(node, path, this.#environment.http, this.issues);
        case 'noop':
          return new NoopTask(node);
        case 'sleep':
          return new SleepTask(node);
        case 'worker': {
          const workers = this.#environment.workers;
          if (workers !== undefined) return new WorkerTask(node, workers);
          this.issues.push({
            code: 'INVALID_DEFINITION',
            path: childPath(path, 'type'),
            message:
              'this service has no queue for worker tasks; give its DefinitionRegistry a "workers" queue, or use another task type',
          });
          return undefined;
        }
      }
    });
  }

  #retry(node: RetryNode, path: string): Retry | undefined {
    this.#claimName(node.name, path);
    return this.#atom(path, () => buildRetry(node));
  }

  /** Builds an atom, turning a refusal of its options into an issue at its path. */
  #atom<A extends Atom>(path: string, build: () => A | undefined): A | undefined {
    try {
      return build();
    } catch (error) {
      if (!(error instanceof TaskFlowError)) throw error;
      this.issues.push({ code: 'INVALID_DEFINITION', path, message: error.message });
      return undefined;
    }
  }

  /** The links of a graph flow named `flowName` whose children are `children`. */
  #links(
    links: readonly LinkNode[],
    children: readonly DocumentNode[],
    flowName: string,
    path: string,
  ): ExplicitLink[] {
    const byName = new Map(
      children.map((child, index) => [nodeName(child, `${flowName}.${index}`), child]),
    );
    const known = [...byName.keys()].map((n) => `"${n}"`).join(', ');
    const built = links.map((link, index): ExplicitLink => {
      const linkPath = childPath(path, index);
      for (const end of ['from', 'to'] as const) {
        if (!byName.has(link[end])) {
          this.issues.push({
            code: 'UNKNOWN_LINK',
            path: `${linkPath}.${end}`,
            message: `this graph flow has no child named "${link[end]}" (its children: ${known || 'none'}); link two of its own children`,
          });
        }
      }
      const depth = link.depth === undefined ? {} : { depth: link.depth };
      if (link.when === undefined) return { from: link.from, to: link.to, options: depth };
      const problem = expressionProblem(link.when);
      if (problem !== undefined) {
        this.issues.push({
          code: 'EXPRESSION',
          path: `${linkPath}.when`,
          message: `${problem}; write a JSONata condition over the results of "${link.from}"`,
        });
      }
      const when = link.when;
      const fromType = byName.get(link.from)?.type;
      const fromAtom =
        fromType !== undefined && (TASK_TYPES as readonly string[]).includes(fromType);
      const conditions = this.#environment.conditions;
      const decider = (results: Readonly<Record<string, unknown>>): boolean =>
        conditions.test(when, results, fromAtom ? { result: results[link.from] } : {});
      return { from: link.from, to: link.to, options: { ...depth, decider } };
    });
    return built;
  }

  #claimName(name: string, path: string): void {
    const first = this.#paths.get(name);
    if (first === undefined) {
      this.#paths.set(name, path);
      return;
    }
    this.issues.push({
      code: 'DUPLICATE_NAME',
      path: `${path}.name`,
      message: `the name "${name}" is already used at ${first}; names are unique across the whole document, nesting included, so rename one`,
    });
  }
}

/** The name of a child: a task's, or a flow's own or default name. */
function nodeName(node: DocumentNode, defaultName: string): string {
  return node.name ?? defaultName;
}
