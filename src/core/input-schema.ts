/**
 * A schema of a flow's inputs in the Standard Schema form (`~standard`), which zod 4, valibot,
 * arktype and others implement, so the library checks inputs without depending on any of them.
 *
 * @example
 * import { z } from 'zod';
 * const inputs: InputSchema = z.object({ size: z.number().int().min(1) });
 */
export interface InputSchema {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => InputCheck | Promise<InputCheck>;
  };
}

/** What a schema says of a value: the value it accepted (defaults applied), or its issues. */
export type InputCheck =
  | { readonly value: unknown; readonly issues?: undefined }
  | { readonly issues: readonly InputIssue[] };

/** One problem a schema found, at `path` within the value. */
export interface InputIssue {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** An issue's path as dotted text, e.g. `servers.0.name`; empty for the value itself. */
export function issuePath(issue: InputIssue): string {
  return (issue.path ?? [])
    .map((part) => String(typeof part === 'object' && part !== null ? part.key : part))
    .join('.');
}
