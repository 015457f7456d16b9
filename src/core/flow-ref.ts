/**
 * A registered flow factory, by name and version: how a job names the flow it runs and how a
 * fresh process rebuilds the flow of a persisted run.
 *
 * @example
 * const ref: FlowRef = { name: 'provision', version: '1' };
 */
export interface FlowRef {
  readonly name: string;
  readonly version: string;
}
