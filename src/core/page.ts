/** A page of a listing; pass `next` back as `after` to get the following page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
}
