import { FLOW_STATES, type Flow, type FlowState } from '../api/types.ts';

/** The creation windows a runs list can show. */
export const WINDOWS = [
  { label: 'last hour', ms: 3_600_000 },
  { label: 'last 24 hours', ms: 86_400_000 },
  { label: 'last 7 days', ms: 7 * 86_400_000 },
  { label: 'all time', ms: undefined },
] as const;

/** What the runs list shows: runs in these states, of this flow, created in this window. */
export interface Filters {
  readonly states: readonly FlowState[];
  readonly flow: string;
  readonly window: number;
}

/** The runs list's filters, and a box to filter the page by run id or open a run by its id. */
export function RunFilters({
  filters,
  flows,
  search,
  onChange,
  onSearch,
  onOpen,
}: {
  readonly filters: Filters;
  readonly flows: readonly Flow[];
  readonly search: string;
  readonly onChange: (next: Partial<Filters>) => void;
  readonly onSearch: (text: string) => void;
  readonly onOpen: (event: Event) => void;
}) {
  return (
    <form class="filters" onSubmit={onOpen} aria-label="Run filters">
      <fieldset class="states">
        <legend>State</legend>
        {FLOW_STATES.map((state) => (
          <label key={state} class="chip">
            <input
              type="checkbox"
              checked={filters.states.includes(state)}
              onChange={(e) =>
                onChange({
                  states: (e.target as HTMLInputElement).checked
                    ? [...filters.states, state]
                    : filters.states.filter((s) => s !== state),
                })
              }
            />
            {state}
          </label>
        ))}
      </fieldset>
      <label class="field inline">
        <span>Flow</span>
        <select
          value={filters.flow}
          onChange={(e) => onChange({ flow: (e.target as HTMLSelectElement).value })}
        >
          <option value="">any</option>
          {flows.map((flow) => (
            <option key={flow.name} value={flow.name}>
              {flow.name}
            </option>
          ))}
        </select>
      </label>
      <label class="field inline">
        <span>Created</span>
        <select
          value={String(filters.window)}
          onChange={(e) => onChange({ window: Number((e.target as HTMLSelectElement).value) })}
        >
          {WINDOWS.map((w, i) => (
            <option key={w.label} value={String(i)}>
              {w.label}
            </option>
          ))}
        </select>
      </label>
      <label class="field inline">
        <span>Run id</span>
        <input
          type="search"
          value={search}
          placeholder="filter or open by id"
          onInput={(e) => onSearch((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">Open</button>
    </form>
  );
}
