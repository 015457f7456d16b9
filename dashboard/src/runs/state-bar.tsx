/** Counts per state as one stacked bar with a legend. */
export function StateBar({
  states,
  label,
}: {
  readonly states: readonly string[];
  readonly label: string;
}) {
  const counts = new Map<string, number>();
  for (const state of states) counts.set(state, (counts.get(state) ?? 0) + 1);
  const entries = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return null;
  return (
    <figure class="state-bar" aria-label={label}>
      <div class="bar" aria-hidden="true">
        {entries.map(([state, count]) => (
          <span key={state} class={`state-${state}`} style={{ flexGrow: count }} />
        ))}
      </div>
      <figcaption>
        {entries.map(([state, count]) => (
          <span key={state} class="count" data-state={state}>
            <span class={`dot state-${state}`} aria-hidden="true" /> {state} {count}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
