import type { ValidationIssue } from '../core/errors.ts';
import { MAX_ATOM_NAME_LENGTH, MAX_FLOW_NAME_LENGTH, nameProblem } from '../core/names.ts';
import type { CompiledFlow, CompiledGraph } from './compile.ts';
import type { ProviderIndex } from './providers.ts';

/** What validation finds: every problem, and per atom and argument its nearest providers. */
export interface Validation {
  readonly issues: readonly ValidationIssue[];
  /** Per atom node, per argument: the nearest group of providers (undefined when injected or none). */
  readonly argumentProviders: (readonly number[] | undefined)[][];
}

/**
 * Checks a compiled flow against the store: names every backend can store, and for every
 * argument exactly one nearest provider, or the store, or an optional default
 * (docs/semantics.md, "Data flow"). Collects every problem instead of stopping at the first.
 */
export function validateFlow(
  graph: CompiledGraph,
  providers: ProviderIndex,
  store: Readonly<Record<string, unknown>>,
): Validation {
  const issues: ValidationIssue[] = [...graph.issues];
  checkFlowNames(graph.root, issues);
  const argumentProviders: (readonly number[] | undefined)[][] = [];
  for (const index of graph.atoms) {
    const atom = graph.nodes[index]?.atom;
    if (!atom) continue;
    const problem = nameProblem(atom.name, MAX_ATOM_NAME_LENGTH);
    if (problem) {
      issues.push({
        code: 'INVALID_DEFINITION',
        atom: atom.name,
        message: `The name of atom ${JSON.stringify(atom.name)} ${problem}. Every backend stores names as text; rename it.`,
      });
    }
    argumentProviders[index] = atom.arguments.map((arg) => {
      if (Object.hasOwn(atom.injected, arg.arg)) return undefined;
      const first = providers.nearest(index, arg.symbol);
      if (first && first.length > 1) {
        const names = first.map((p: number) => `"${graph.nodes[p]?.atom?.name}"`).join(' and ');
        issues.push({
          code: 'AMBIGUOUS_PROVIDER',
          atom: atom.name,
          symbol: arg.symbol,
          message: `Atom "${atom.name}" requires "${arg.symbol}", which ${names} all provide and none is nearer; rename one of the outputs or rebind "${arg.arg}" to the one you mean.`,
        });
      } else if (!first && !arg.optional && !Object.hasOwn(store, arg.symbol)) {
        issues.push({
          code: 'MISSING_REQUIREMENT',
          atom: atom.name,
          symbol: arg.symbol,
          message: `Atom "${atom.name}" requires "${arg.symbol}", but no atom before it provides it and the store lacks it; add a provider before "${atom.name}", put "${arg.symbol}" in the store, or inject it.`,
        });
      }
      return first;
    });
  }
  return { issues, argumentProviders };
}

function checkFlowNames(root: CompiledFlow, issues: ValidationIssue[]): void {
  const stack = [root];
  while (stack.length > 0) {
    const flow = stack.pop() as CompiledFlow;
    const problem = nameProblem(flow.flow.name, MAX_FLOW_NAME_LENGTH);
    if (problem) {
      issues.push({
        code: 'INVALID_DEFINITION',
        atom: flow.flow.name,
        message: `The name of flow ${JSON.stringify(flow.flow.name)} ${problem}. Every backend stores names as text; rename it.`,
      });
    }
    for (const child of flow.children) if (typeof child !== 'number') stack.push(child);
  }
}
