import { Flow, type FlowChild, type FlowOptions, requiredBy } from './flow.ts';

/**
 * Children that may run in any order or at the same time; siblings never see each other's results.
 *
 * @example
 * const fanOut = unorderedFlow('resize-all', [resizeA, resizeB, resizeC]);
 */
export class UnorderedFlow extends Flow {
  readonly kind = 'unordered' as const;

  add(...children: FlowChild[]): UnorderedFlow {
    return new UnorderedFlow(this.name, [...this.children, ...children], { retry: this.retry });
  }

  protected externalRequirements(): Set<string> {
    const external = this.retryRequirements();
    const fromRetry = new Set(this.retry?.providedSymbols ?? []);
    for (const child of this.children) {
      for (const symbol of requiredBy(child)) if (!fromRetry.has(symbol)) external.add(symbol);
    }
    return external;
  }
}

/**
 * A flow whose children may run at the same time; siblings never see each other's results.
 *
 * @example
 * const flow = unorderedFlow('fan-out', [resizeA, resizeB, resizeC]);
 */
export function unorderedFlow(
  name: string,
  children: readonly FlowChild[] = [],
  options: FlowOptions = {},
): UnorderedFlow {
  return new UnorderedFlow(name, children, options);
}
