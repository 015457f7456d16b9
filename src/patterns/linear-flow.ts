import { Flow, type FlowChild, type FlowOptions, providedBy, requiredBy } from './flow.ts';

/**
 * Runs its children one after another; a failure reverts them newest first.
 *
 * @example
 * const flow = linearFlow('deploy', [createVolume, bootServer, attachVolume]);
 */
export class LinearFlow extends Flow {
  readonly kind = 'linear' as const;

  add(...children: FlowChild[]): LinearFlow {
    return new LinearFlow(this.name, [...this.children, ...children], { retry: this.retry });
  }

  protected externalRequirements(): Set<string> {
    const external = this.retryRequirements();
    const provided = new Set(this.retry?.providedSymbols ?? []);
    for (const child of this.children) {
      for (const symbol of requiredBy(child)) if (!provided.has(symbol)) external.add(symbol);
      for (const symbol of providedBy(child)) provided.add(symbol);
    }
    return external;
  }
}

/**
 * A flow whose children run one after another, each seeing what the earlier ones provided.
 *
 * @example
 * const flow = linearFlow('provision', [createVolume, attachVolume]);
 */
export function linearFlow(
  name: string,
  children: readonly FlowChild[] = [],
  options: FlowOptions = {},
): LinearFlow {
  return new LinearFlow(name, children, options);
}
