import type { ConductorEvent, Job, JobBoard } from '../index.ts';
import type { LiveLine } from './live-line.ts';
import { cell } from './output.ts';

/** The window of the completion rate. */
const RATE_WINDOW_MS = 60_000;
/** Held claims named on the line; the rest are counted. */
const SHOWN_CLAIMS = 3;
/** How often the held claims are read again from the board, and the countdown redrawn. */
const REFRESH_MS = 1000;

/** A claim the conductor holds, as the status line shows it. */
export interface HeldClaim {
  readonly jobId: string;
  readonly name: string;
  /** Epoch milliseconds; null when the board reports none. */
  readonly leaseExpiresAt: number | null;
}

/** What the status line is made of at one moment. */
export interface ConductorSnapshot {
  readonly running: number;
  readonly held: readonly HeldClaim[];
  readonly now: number;
}

/**
 * Counts a conductor's outcomes for its status line: jobs completed, given back (abandoned)
 * and lost, and how many completed in the last minute.
 */
export class ConductorTally {
  #completed = 0;
  #abandoned = 0;
  #lost = 0;
  readonly #recentCompletions: number[] = [];

  /** Counts one event that happened at `now` (epoch ms). */
  record(event: ConductorEvent, now: number): void {
    switch (event.type) {
      case 'completed':
        this.#completed++;
        this.#recentCompletions.push(now);
        return;
      case 'abandoned':
        this.#abandoned++;
        return;
      case 'lost':
        this.#lost++;
        return;
      case 'claimed':
      case 'error':
      case 'stopped':
        return;
    }
  }

  /**
   * The status line at `snapshot.now`, safe for a terminal (completions older than the rate's
   * minute are forgotten), e.g.
   * `running 2 · completed 15 · abandoned 0 · lost 0 · 12/min · held: boot-1 24s, boot-2 27s`.
   */
  line(snapshot: ConductorSnapshot): string {
    const since = snapshot.now - RATE_WINDOW_MS;
    while ((this.#recentCompletions[0] ?? since) < since) this.#recentCompletions.shift();
    const parts = [
      `running ${snapshot.running}`,
      `completed ${this.#completed}`,
      `abandoned ${this.#abandoned}`,
      `lost ${this.#lost}`,
      `${this.#recentCompletions.length}/min`,
    ];
    if (snapshot.held.length > 0) parts.push(`held: ${heldText(snapshot.held, snapshot.now)}`);
    return parts.join(' · ');
  }
}

function heldText(held: readonly HeldClaim[], now: number): string {
  const shown = held.slice(0, SHOWN_CLAIMS).map((claim) => {
    const left =
      claim.leaseExpiresAt === null
        ? '?'
        : claim.leaseExpiresAt <= now
          ? 'expired'
          : `${Math.ceil((claim.leaseExpiresAt - now) / 1000)}s`;
    return `${cell(claim.name, 24)} ${left}`;
  });
  const more = held.length - shown.length;
  return more > 0 ? `${shown.join(', ')} +${more} more` : shown.join(', ');
}

/** What the display reads of the conductor it shows. */
export interface ShownConductor {
  readonly name: string;
  readonly activeJobs: readonly string[];
}

/**
 * The conductor's live status line on a terminal: redrawn on every event and every second,
 * with the claims it holds (read from the board each second) and their lease countdown. Event
 * log lines print above it.
 */
export class ConductorStatusLine {
  readonly #line: LiveLine;
  readonly #board: Pick<JobBoard, 'list'>;
  readonly #tally = new ConductorTally();
  #conductor: ShownConductor | undefined;
  #held: readonly HeldClaim[] = [];
  #reading = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(line: LiveLine, board: Pick<JobBoard, 'list'>) {
    this.#line = line;
    this.#board = board;
  }

  /** Starts showing `conductor`. */
  start(conductor: ShownConductor): void {
    this.#conductor = conductor;
    this.#redraw();
    this.#timer = setInterval(() => void this.#refresh(), REFRESH_MS);
    this.#timer.unref();
  }

  /** Counts an event, prints its log line above the status line and redraws it. */
  report(event: ConductorEvent, logLine: string): void {
    this.#tally.record(event, Date.now());
    this.#line.log(logLine);
    this.#redraw();
  }

  /** Stops redrawing; the last status stays on screen. */
  stop(): void {
    clearInterval(this.#timer);
    this.#redraw();
    this.#stopped = true;
    this.#line.stop();
  }

  async #refresh(): Promise<void> {
    const conductor = this.#conductor;
    if (conductor === undefined || this.#reading) return;
    this.#reading = true;
    try {
      this.#held =
        conductor.activeJobs.length === 0
          ? []
          : (
              await this.#board.list({ states: ['CLAIMED'], owner: conductor.name, limit: 1000 })
            ).items.map(heldClaim);
    } catch {
      // The display keeps the claims it read last; the conductor reports the board's
      // problems itself, as events.
    } finally {
      this.#reading = false;
    }
    this.#redraw();
  }

  #redraw(): void {
    if (this.#stopped) return;
    const active = this.#conductor?.activeJobs ?? [];
    // Claims read before a job ended are not shown once it has.
    const held = this.#held.filter((claim) => active.includes(claim.jobId));
    this.#line.show(this.#tally.line({ running: active.length, held, now: Date.now() }));
  }
}

function heldClaim(job: Job): HeldClaim {
  return { jobId: job.id, name: job.name, leaseExpiresAt: job.leaseExpiresAt };
}
