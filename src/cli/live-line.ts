import cliProgress from 'cli-progress';

/**
 * One line redrawn in place at the bottom of a terminal (a status or progress line), with log
 * lines printed above it. Text given to it must already be safe for a terminal (`safeText`).
 */
export interface LiveLine {
  /** Makes `text` the line's content; it is redrawn at most ten times a second. */
  show(text: string): void;
  /** Prints `line` above the live line. */
  log(line: string): void;
  /** Stops redrawing and shows the cursor again; the last content stays unless `clearOnStop`. */
  stop(): void;
}

/** Options of {@link openLiveLine}. */
export interface LiveLineOptions {
  /** Remove the line when stopped (a progress line), instead of leaving it (a last status). */
  readonly clearOnStop?: boolean;
}

/**
 * Opens a {@link LiveLine} on a terminal stream, drawn by cli-progress: the cursor is hidden
 * meanwhile and the line is cut at the terminal's width rather than wrapped.
 *
 * @example
 * const line = openLiveLine(process.stdout, { clearOnStop: true });
 * line.show('Pruning runs: 100 deleted');
 * line.stop();
 */
export function openLiveLine(
  terminal: NodeJS.WritableStream,
  options: LiveLineOptions = {},
): LiveLine {
  const bars = new cliProgress.MultiBar({
    stream: terminal,
    format: (_options, _params, payload: { readonly text: string }) => payload.text,
    hideCursor: true,
    linewrap: false,
    clearOnComplete: options.clearOnStop === true,
  });
  const bar = bars.create(0, 0, { text: '' });
  return {
    show: (text) => bar.update(0, { text }),
    log: (line) => bars.log(`${line}\n`),
    stop: () => {
      // Lines logged since the last redraw are printed by a redraw, not by stop().
      bars.update();
      bars.stop();
    },
  };
}
