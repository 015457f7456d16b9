// The checker of the randomized conductor fault campaign: pure functions over the execution
// log (written by test/fixtures/fault-conductor.ts and by the campaign itself) and the final
// contents of the board and the run store. See conductor-campaign.test.ts for what it proves
// and checker.test.ts for a log broken on purpose for each check.
//
// Order. Every line is appended with appendFileSync (O_APPEND) by the conductor processes and
// by the campaign, so the order of lines in the file is the real order of the writes: a line
// after another was written after it. "Before" and "after" below mean that order (`seq`);
// times (`at`, epoch ms of one host's clock) are compared only with lease deadlines.
//
// Fencing. A task line carries the fencing token the task saw (`context.lease?.token`). The
// checker treats the log as an external system that refuses a stale writer, the pattern the
// task context's lease exists for: a line whose token is smaller than a claim of the job
// granted before it is stale. A stale start is a violation of (a); stale lines do not count
// as side effects for (d) and (e). When a task saw no lease (not wired yet), its token is
// taken to be the latest claim of the job by its own process, and (a) reports the missing
// fence once.

/** The checks, as issue 7's "Proof" names them. */
export const CHECKS = {
  a: 'no task code started under an expired or superseded claim',
  b: 'no task started after its job was terminal on the board',
  c: 'run store and board agree on every job at the end',
  d: 'every revert comes after its execute, reverts in reverse completion order, no side effect left undone',
  e: 're-executions only of atoms in flight when their owner was killed, stopped or lost the claim',
  f: 'no dead letter and no counted attempt caused by infrastructure',
} as const;
export type CheckId = keyof typeof CHECKS;

export interface Violation {
  readonly check: CheckId;
  readonly job: string;
  readonly message: string;
}

interface Line {
  /** Position in the log file. */
  readonly seq: number;
  /** Epoch ms when the line was written. */
  readonly at: number;
  /** The conductor that wrote it (for a fault line: its victim). */
  readonly conductor: string;
  readonly pid: number;
}

/** A task's execute or revert starting or ending. */
export interface TaskLine extends Line {
  readonly kind: 'task';
  /** The job's label (its store's `label`): tasks do not know the job id. */
  readonly label: string;
  readonly atom: string;
  readonly phase: 'execute' | 'revert';
  readonly edge: 'start' | 'end';
  /** `context.lease?.token`, null when the task saw no lease. */
  readonly token: number | null;
  /** `context.lease?.validUntil`, null when the task saw no lease. */
  readonly validUntil: number | null;
  /** For an end: false when the execute threw. */
  readonly ok?: boolean;
  /**
   * For a start: when the conductor's clock was last read before it, i.e. no earlier than the
   * engine's lease check before calling the task (see test/fixtures/fault-conductor.ts).
   */
  readonly checkedAt?: number;
  /** For a start: when a board or run store call of its process last settled before it. */
  readonly ioAt?: number;
}

/** A board call by a conductor, logged when it returned. */
export interface BoardLine extends Line {
  readonly kind: 'board';
  readonly op: 'claim' | 'extend' | 'consume' | 'abandon';
  readonly ok: boolean;
  /** When the call was sent. */
  readonly sentAt: number;
  /** The job (for a claim that found nothing: null). */
  readonly job?: string | null;
  readonly label?: string;
  readonly token?: number;
  /** The claim's expiry as the board answered it (claim, extend). */
  readonly expiresAt?: number;
  /** consume: the outcome recorded. */
  readonly outcome?: string;
  /** consume, abandon: the job's state after the call. */
  readonly state?: string;
  readonly reason?: string;
  readonly countAttempt?: boolean;
  readonly code?: string;
  readonly error?: string;
}

/** A conductor event (onEvent). */
export interface EventLine extends Line {
  readonly kind: 'event';
  readonly type: 'claimed' | 'completed' | 'abandoned' | 'lost' | 'error' | 'stopped';
  readonly job?: string;
  readonly token?: number;
  readonly outcome?: string;
  readonly state?: string;
  readonly reason?: string;
  readonly error?: string;
}

/** What the campaign did: written just before the signal is sent (SIGCONT: just before too). */
export interface FaultLine extends Line {
  readonly kind: 'fault';
  readonly type: 'spawn' | 'kill' | 'stop' | 'cont' | 'outage-start' | 'outage-end';
}

/** A conductor process starting (`ready`) or ending after a graceful stop (`exit`). */
export interface ProcessLine extends Line {
  readonly kind: 'process';
  readonly type: 'ready' | 'exit' | 'open-retry';
  /** ready: jobs the conductor runs at once. */
  readonly concurrency?: number;
}

export type LogLine = TaskLine | BoardLine | EventLine | FaultLine | ProcessLine;

/** Parses the log; a line cut short (a write interrupted by SIGKILL) is counted, not parsed. */
export function parseLog(text: string): { lines: LogLine[]; malformed: number } {
  const lines: LogLine[] = [];
  let malformed = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const parsed = JSON.parse(raw) as Omit<LogLine, 'seq'>;
      lines.push({ ...parsed, seq: lines.length } as LogLine);
    } catch {
      malformed++;
    }
  }
  return { lines, malformed };
}

/** A job as the board and the run store hold it at the end. */
export interface FinalJob {
  readonly id: string;
  readonly label: string;
  /** The registered flow it runs. */
  readonly flow: string;
  /** How the flow is designed to end. */
  readonly expected: 'SUCCESS' | 'REVERTED';
  /** 'MISSING' when the board no longer has the job. */
  readonly state: 'UNCLAIMED' | 'CLAIMED' | 'COMPLETE' | 'DEAD_LETTER' | 'MISSING';
  readonly outcome: string | null;
  readonly owner: string | null;
  readonly token: number;
  readonly attempts: number;
  readonly updatedAt: number;
  readonly deadLetterReason: string | null;
  /** The run's flow state in the run store, null when it has no run. */
  readonly runState: string | null;
}

export interface CheckInput {
  readonly lines: readonly LogLine[];
  readonly jobs: readonly FinalJob[];
}

const who = (line: Line): string => `${line.conductor}(pid ${line.pid})`;
const ms = (at: number): string => `t=${at}`;

/** Everything the checks need, indexed by job. */
class Index {
  readonly idOfLabel = new Map<string, string>();
  readonly tasks = new Map<string, TaskLine[]>();
  readonly board = new Map<string, BoardLine[]>();
  readonly events = new Map<string, EventLine[]>();
  readonly claims = new Map<string, BoardLine[]>();
  readonly faults = new Map<number, FaultLine[]>();
  readonly exits = new Map<number, ProcessLine>();
  readonly jobs = new Map<string, FinalJob>();
  /** Starts under a stale claim explained by a pause after the engine's check (see below). */
  readonly notes: string[] = [];

  constructor(input: CheckInput) {
    for (const job of input.jobs) {
      this.idOfLabel.set(job.label, job.id);
      this.jobs.set(job.id, job);
    }
    const sorted = [...input.lines].sort((x, y) => x.seq - y.seq);
    for (const line of sorted) {
      if (line.kind === 'board' && line.op === 'claim' && line.ok && line.job && line.label)
        this.idOfLabel.set(line.label, line.job);
    }
    for (const line of sorted) {
      switch (line.kind) {
        case 'task':
          push(this.tasks, this.jobOf(line), line);
          break;
        case 'board':
          if (line.job) {
            push(this.board, line.job, line);
            if (line.op === 'claim' && line.ok) push(this.claims, line.job, line);
          }
          break;
        case 'event':
          if (line.job) push(this.events, line.job, line);
          break;
        case 'fault':
          push(this.faults, line.pid, line);
          break;
        case 'process':
          if (line.type === 'exit') this.exits.set(line.pid, line);
          break;
      }
    }
  }

  jobOf(line: TaskLine): string {
    return this.idOfLabel.get(line.label) ?? `label:${line.label}`;
  }

  /** The token a task line ran under: the one it saw, or its process's latest claim of the job. */
  tokenOf(line: TaskLine): number | undefined {
    if (line.token !== null) return line.token;
    const own = (this.claims.get(this.jobOf(line)) ?? []).filter(
      (claim) => claim.pid === line.pid && claim.seq < line.seq,
    );
    return own.at(-1)?.token;
  }

  /** The first claim of the job with a bigger token than `token` granted before `seq`. */
  supersededBy(job: string, token: number, seq: number): BoardLine | undefined {
    return (this.claims.get(job) ?? []).find(
      (claim) => claim.seq < seq && (claim.token ?? 0) > token,
    );
  }

  /**
   * The SIGSTOP that fell between the engine's last look at the clock before a task start and
   * the start itself: the engine checked the lease, then the process was paused before the
   * task's first statement ran. No check inside the process can close that window (only a
   * fence in the side effect can), so a stale start after such a pause is not held against
   * the engine, provided the claim was still good when the engine looked. The evidence that
   * the engine was past its check when stopped: it read the clock last before the stop, and
   * no board or store reply reached the process between the stop and the start (had it been
   * paused awaiting one, it would have had to check again after the reply).
   */
  pauseAfterCheck(line: TaskLine): FaultLine | undefined {
    const { checkedAt, ioAt } = line;
    if (checkedAt === undefined || ioAt === undefined) return undefined;
    return (this.faults.get(line.pid) ?? []).find(
      (f) => f.type === 'stop' && f.seq < line.seq && f.at >= checkedAt && f.at >= ioAt,
    );
  }

  /**
   * A stale line written after an owner with a bigger token had already run the same atom:
   * what the stale owner reports of that atom no longer says anything about the run.
   */
  isOvertaken(line: TaskLine): boolean {
    const token = this.tokenOf(line);
    if (token === undefined) return true;
    return (this.tasks.get(this.jobOf(line)) ?? []).some(
      (other) =>
        other.seq < line.seq && other.atom === line.atom && (this.tokenOf(other) ?? 0) > token,
    );
  }

  isStale(line: TaskLine): boolean {
    const token = this.tokenOf(line);
    return (
      token === undefined || this.supersededBy(this.jobOf(line), token, line.seq) !== undefined
    );
  }

  /**
   * Why an owner may have left atom code in flight after `from`: it was killed or stopped
   * before `until`, its claim (`token`) was superseded before `until`, or it reported losing or
   * giving back the job, or it stopped gracefully.
   */
  causeAfter(
    job: string,
    pid: number,
    token: number | undefined,
    from: number,
    until: number,
  ): string | undefined {
    const fault = (this.faults.get(pid) ?? []).find(
      (f) => (f.type === 'kill' || f.type === 'stop') && f.seq > from && f.seq < until,
    );
    if (fault) return `${fault.type} at ${ms(fault.at)}`;
    const newer = token === undefined ? undefined : this.supersededBy(job, token, until);
    if (newer) return `superseded by token ${newer.token} at ${ms(newer.at)}`;
    const event = (this.events.get(job) ?? []).find(
      (e) => e.pid === pid && e.seq > from && (e.type === 'lost' || e.type === 'abandoned'),
    );
    if (event) return `${event.type} at ${ms(event.at)}`;
    const call = (this.board.get(job) ?? []).find(
      (b) => b.pid === pid && b.seq > from && (b.op === 'abandon' || (b.op === 'extend' && !b.ok)),
    );
    if (call) return `${call.op}${call.ok ? '' : ' refused'} at ${ms(call.at)}`;
    const exit = this.exits.get(pid);
    if (exit && exit.seq > from) return `graceful exit at ${ms(exit.at)}`;
    return undefined;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function describeTask(line: TaskLine, token: number | undefined): string {
  return `${line.phase} ${line.edge} of ${line.atom} by ${who(line)} token ${token ?? 'none'} at ${ms(line.at)}`;
}

/** Runs every check; an empty list means the campaign held. */
export function checkCampaign(input: CheckInput): Violation[] {
  return analyzeCampaign(input).violations;
}

/**
 * Runs every check, and also returns the notes: task starts under a stale claim (for (a) and
 * (b)) that a SIGSTOP between the engine's lease check and the task's first statement
 * explains; those are a side effect only a fence in the task's own writes can refuse.
 */
export function analyzeCampaign(input: CheckInput): {
  violations: Violation[];
  notes: string[];
} {
  const index = new Index(input);
  const violations = [
    ...checkClaims(index),
    ...checkTerminal(index),
    ...checkAgreement(index),
    ...checkReverts(index),
    ...checkReexecutions(index),
    ...checkDeadLetters(index),
  ];
  return { violations, notes: index.notes };
}

/** (a) No task code started under an expired or superseded claim. */
function checkClaims(index: Index): Violation[] {
  const found: Violation[] = [];
  let unfenced = 0;
  let firstUnfenced: string | undefined;
  for (const [job, lines] of index.tasks) {
    for (const line of lines) {
      if (line.edge !== 'start') continue;
      if (line.token === null) {
        unfenced++;
        firstUnfenced ??= `${job}: ${describeTask(line, undefined)}`;
      }
      const token = index.tokenOf(line);
      if (token === undefined) {
        found.push({
          check: 'a',
          job,
          message: `${job}: ${describeTask(line, token)} with no claim of the job by that process`,
        });
        continue;
      }
      const pause = index.pauseAfterCheck(line);
      const checkedAt = line.checkedAt ?? line.at;
      /** Why the start was stale, and whether it was already so when the engine checked. */
      const reasons: { readonly why: string; readonly atCheck: boolean }[] = [];
      const newer = index.supersededBy(job, token, line.seq);
      if (newer) {
        reasons.push({
          why: `started after ${who(newer)} was granted token ${newer.token} at ${ms(newer.at)} (superseded claim)`,
          atCheck: pause === undefined || newer.seq < pause.seq,
        });
      }
      if (line.validUntil !== null && line.at > line.validUntil) {
        reasons.push({
          why: `started ${line.at - line.validUntil} ms after the lease it saw was valid until ${ms(line.validUntil)} (expired claim)`,
          atCheck: pause === undefined || checkedAt >= line.validUntil,
        });
      }
      const grants = (index.board.get(job) ?? []).filter(
        (b) =>
          (b.op === 'claim' || b.op === 'extend') &&
          b.ok &&
          b.token === token &&
          b.expiresAt !== undefined &&
          b.sentAt <= line.at,
      );
      if (grants.length > 0) {
        const until = Math.max(...grants.map((b) => b.expiresAt ?? 0));
        if (line.at > until) {
          reasons.push({
            why: `started ${line.at - until} ms after the board's last answer for token ${token} said the claim expires at ${ms(until)} (expired claim)`,
            atCheck: pause === undefined || checkedAt >= until,
          });
        }
      }
      if (reasons.length === 0) continue;
      const text = `${job}: ${describeTask(line, token)} ${reasons.map((r) => r.why).join('; ')}`;
      if (pause && !reasons.some((r) => r.atCheck)) {
        index.notes.push(
          `${text}; the engine last read the clock at ${ms(checkedAt)}, before ${who(pause)} was stopped at ${ms(pause.at)}, and the claim was good then`,
        );
        continue;
      }
      found.push({
        check: 'a',
        job,
        message: `${text}${pause ? `; the engine last read the clock at ${ms(checkedAt)}, before the SIGSTOP at ${ms(pause.at)}, but the claim was already stale then` : `; the engine last read the clock at ${ms(checkedAt)}`}`,
      });
    }
  }
  // A claim granted while the job's previous claim was certainly still valid (the board had
  // renewed it past the moment the new claim's answer came back) and not given back.
  for (const [job, granted] of index.claims) {
    // By token: an answer may be logged late (its process paused before writing the line).
    const claims = [...granted].sort((x, y) => (x.token ?? 0) - (y.token ?? 0));
    for (const [i, claim] of claims.entries()) {
      const previous = claims[i - 1];
      if (!previous || previous.token === undefined) continue;
      const mine = (index.board.get(job) ?? []).filter((b) => b.token === previous.token && b.ok);
      // Given back (its answer may be logged after the new claim's, so by when it was sent).
      if (mine.some((b) => (b.op === 'abandon' || b.op === 'consume') && b.sentAt <= claim.at))
        continue;
      // Renewals answered before the new claim's answer ran before the new claim did (after
      // it, they would have been refused).
      const calls = mine.filter((b) => b.seq < claim.seq);
      const until = Math.max(
        ...calls.filter((b) => b.op === 'claim' || b.op === 'extend').map((b) => b.expiresAt ?? 0),
      );
      if (claim.at < until) {
        found.push({
          check: 'a',
          job,
          message: `${job}: ${who(claim)} was granted token ${claim.token} (answer at ${ms(claim.at)}) while the claim of ${who(previous)} token ${previous.token} was valid until ${ms(until)} (superseded a live claim)`,
        });
      }
    }
  }
  if (unfenced > 0) {
    found.push({
      check: 'a',
      job: '*',
      message: `${unfenced} task starts saw no lease fence (context.lease undefined), so task code cannot fence its side effects; first: ${firstUnfenced}`,
    });
  }
  return found;
}

/** (b) No task started after its job was terminal on the board, and no job completed twice. */
function checkTerminal(index: Index): Violation[] {
  const found: Violation[] = [];
  const jobs = new Set([...index.jobs.keys(), ...index.tasks.keys(), ...index.board.keys()]);
  for (const job of jobs) {
    const ends = (index.board.get(job) ?? []).filter(
      (b) => b.ok && (b.op === 'consume' || (b.op === 'abandon' && b.state === 'DEAD_LETTER')),
    );
    const first = ends[0];
    for (const again of ends.slice(1)) {
      found.push({
        check: 'b',
        job,
        message: `${job}: ${again.op} by ${who(again)} token ${again.token} at ${ms(again.at)} succeeded after the job was already terminal by ${first ? `${who(first)} token ${first.token} at ${ms(first.at)}` : '?'} (completed twice)`,
      });
    }
    const final = index.jobs.get(job);
    for (const line of index.tasks.get(job) ?? []) {
      if (line.edge !== 'start') continue;
      const afterLogged = first !== undefined && line.seq > first.seq;
      const afterBoard =
        first === undefined &&
        final !== undefined &&
        (final.state === 'COMPLETE' || final.state === 'DEAD_LETTER') &&
        line.at > final.updatedAt;
      if (!afterLogged && !afterBoard) continue;
      const pause = index.pauseAfterCheck(line);
      const since = first
        ? `${first.op === 'consume' ? `completed ${first.outcome}` : 'dead-lettered'} by ${who(first)} token ${first.token} at ${ms(first.at)}`
        : `${final?.state} on the board since ${ms(final?.updatedAt ?? 0)}`;
      const text = `${job}: ${describeTask(line, index.tokenOf(line))} started ${line.at - (first?.at ?? final?.updatedAt ?? 0)} ms after the job was ${since}`;
      if (pause && first && pause.seq < first.seq) {
        index.notes.push(
          `${text}; the engine last read the clock at ${ms(line.checkedAt ?? 0)}, before ${who(pause)} was stopped at ${ms(pause.at)}, while the job was not terminal yet`,
        );
        continue;
      }
      found.push({ check: 'b', job, message: text });
    }
  }
  return found;
}

const FINAL_RUN = new Set(['SUCCESS', 'REVERTED', 'FAILURE']);

/** (c) Run store and board agree on every job at the end, and each ended as designed. */
function checkAgreement(index: Index): Violation[] {
  const found: Violation[] = [];
  for (const job of index.jobs.values()) {
    const say = (message: string) => found.push({ check: 'c', job: job.id, message });
    const where = `${job.id} (${job.label}, ${job.flow}, designed to end ${job.expected})`;
    const board = `board ${job.state}${job.outcome ? ` ${job.outcome}` : ''} (owner ${job.owner ?? 'none'}, token ${job.token}, attempts ${job.attempts})`;
    const run = `run ${job.runState ?? 'missing'}`;
    if (job.state === 'MISSING') {
      say(`${where}: the posted job is not on the board; ${run}`);
      continue;
    }
    if (job.state === 'UNCLAIMED' || job.state === 'CLAIMED') {
      say(`${where}: stuck, ${board}, ${run}`);
      continue;
    }
    if (job.runState !== null && !FINAL_RUN.has(job.runState)) {
      say(`${where}: ${run} is left unfinished although the ${board}`);
      continue;
    }
    if (job.state === 'COMPLETE') {
      if (job.outcome !== job.runState) say(`${where}: ${board} but ${run}`);
      else if (job.outcome !== job.expected) say(`${where}: ${board} and ${run}, not as designed`);
    }
  }
  return found;
}

/**
 * (d) Every revert comes after its execute ended, the reverts of one job come in reverse
 * completion order, and a REVERTED job has no effective execute left unreverted (a SUCCESS
 * job no atom left reverted or failed).
 *
 * Order is judged on what the run may have recorded: every end counts, a stale owner's too
 * (its write is refused only once the new owner has fenced the run, so a late end may be the
 * one the next owner finds), unless a newer owner had already run that atom. What is left
 * undone is judged with the fence: a stale owner's end is a side effect an external system
 * guarded by the token would have refused.
 */
function checkReverts(index: Index): Violation[] {
  const found: Violation[] = [];
  for (const [job, lines] of index.tasks) {
    /** Per atom, its last execute end, while not reverted since. */
    const done = new Map<string, TaskLine>();
    /** Per atom, its last end, execute or revert. */
    const last = new Map<string, TaskLine>();
    /** The same, counting only ends that were not stale. */
    const fencedDone = new Map<string, TaskLine>();
    const fencedLast = new Map<string, TaskLine>();
    for (const line of lines) {
      const stale = index.isStale(line);
      const token = index.tokenOf(line);
      if (line.edge === 'end') {
        for (const [doneMap, lastMap, counts] of [
          [done, last, true],
          [fencedDone, fencedLast, !stale],
        ] as const) {
          if (!counts) continue;
          // A stale owner's late end counts unless a newer owner had already run the atom.
          if (stale && index.isOvertaken(line)) continue;
          if (line.phase === 'revert') doneMap.delete(line.atom);
          else doneMap.set(line.atom, line);
          lastMap.set(line.atom, line);
        }
      } else if (line.phase === 'revert' && !stale) {
        // A stale start is (a)'s to report.
        const mine = done.get(line.atom);
        const previous = last.get(line.atom);
        if (!mine) {
          // A revert run again after its owner was lost mid-revert is judged by (e).
          if (previous?.phase !== 'revert') {
            found.push({
              check: 'd',
              job,
              message: `${job}: ${describeTask(line, token)} before any execute of ${line.atom} had ended`,
            });
          }
          continue;
        }
        for (const [atom, end] of done) {
          if (atom === line.atom || end.seq < mine.seq) continue;
          found.push({
            check: 'd',
            job,
            message: `${job}: ${describeTask(line, token)} while ${atom}, which completed later (${who(end)} token ${index.tokenOf(end)} at ${ms(end.at)}) than ${line.atom} (${ms(mine.at)}), was not reverted yet (not reverse completion order)`,
          });
        }
      }
    }
    const final = index.jobs.get(job);
    if (final?.outcome === 'REVERTED') {
      for (const [atom, end] of fencedDone) {
        found.push({
          check: 'd',
          job,
          message: `${job}: the effect of ${atom} (execute ended by ${who(end)} token ${index.tokenOf(end)} at ${ms(end.at)}) was never reverted although the job ended REVERTED`,
        });
      }
    }
    if (final?.outcome === 'SUCCESS') {
      for (const [atom, end] of fencedLast) {
        if (end.phase === 'execute' && end.ok !== false) continue;
        found.push({
          check: 'd',
          job,
          message: `${job}: ${atom} was last ${end.phase === 'revert' ? 'reverted' : 'failed'} (by ${who(end)} token ${index.tokenOf(end)} at ${ms(end.at)}) although the job ended SUCCESS`,
        });
      }
    }
  }
  return found;
}

/**
 * (e) An atom runs again (execute, or revert) only when its previous run was in flight as its
 * owner was killed, stopped or lost the claim; never once it had completed and a later atom
 * of the job had started.
 */
function checkReexecutions(index: Index): Violation[] {
  const found: Violation[] = [];
  for (const [job, lines] of index.tasks) {
    // Ends count as in checkReverts; a stale start is (a)'s to report.
    const effective = lines.filter((line) =>
      line.edge === 'end'
        ? !(index.isStale(line) && index.isOvertaken(line))
        : !index.isStale(line),
    );
    /** Per atom and phase, the last start and end since the atom changed phase. */
    const runs = new Map<string, { start?: TaskLine; end?: TaskLine }>();
    for (const line of effective) {
      const key = `${line.atom}/${line.phase}`;
      const other = `${line.atom}/${line.phase === 'execute' ? 'revert' : 'execute'}`;
      if (line.edge === 'end') {
        const run = runs.get(key) ?? {};
        run.end = line;
        runs.set(key, run);
        // A completed revert makes the next execute a fresh one (a retry), and vice versa.
        if (line.phase === 'revert') runs.delete(other);
        continue;
      }
      const previous = runs.get(key);
      if (line.phase === 'execute') runs.delete(other);
      if (previous?.start === undefined && previous?.end === undefined) {
        runs.set(key, { start: line });
        continue;
      }
      const token = index.tokenOf(line);
      const end = previous.end;
      const what = `${line.phase} of ${line.atom}`;
      const later =
        end === undefined
          ? undefined
          : effective.find(
              (other) =>
                other.edge === 'start' &&
                other.atom !== line.atom &&
                other.seq > end.seq &&
                other.seq < line.seq,
            );
      if (end && later) {
        found.push({
          check: 'e',
          job,
          message: `${job}: ${describeTask(line, token)} ran again although it had completed (${who(end)} token ${index.tokenOf(end)} at ${ms(end.at)}) and ${later.phase} of ${later.atom} started after it (${who(later)} token ${index.tokenOf(later)} at ${ms(later.at)})`,
        });
      } else {
        const before = end ?? previous.start;
        if (before) {
          const cause = index.causeAfter(
            job,
            before.pid,
            index.tokenOf(before),
            before.seq,
            line.seq,
          );
          if (cause === undefined) {
            found.push({
              check: 'e',
              job,
              message: `${job}: ${describeTask(line, token)} ran again after the ${what} by ${who(before)} token ${index.tokenOf(before)} (${before.edge} at ${ms(before.at)}), whose owner was neither killed nor stopped nor lost the claim`,
            });
          }
        }
      }
      runs.set(key, { start: line });
    }
  }
  return found;
}

/** (f) Nothing dead-lettered and no attempt counted: the flows never fail in a way that counts. */
function checkDeadLetters(index: Index): Violation[] {
  const found: Violation[] = [];
  for (const job of index.jobs.values()) {
    if (job.state !== 'DEAD_LETTER') continue;
    found.push({
      check: 'f',
      job: job.id,
      message: `${job.id} (${job.label}, ${job.flow}): dead-lettered after ${job.attempts} attempts: ${job.deadLetterReason}`,
    });
  }
  for (const [job, calls] of index.board) {
    for (const call of calls) {
      if (call.op !== 'abandon' || !call.ok || call.countAttempt === false) continue;
      found.push({
        check: 'f',
        job,
        message: `${job}: abandoned by ${who(call)} token ${call.token} at ${ms(call.at)} counting an attempt (now ${call.state}): ${call.reason}`,
      });
    }
  }
  return found;
}

/** One takeover after a SIGKILL: from the kill to the next claim of a job the victim held. */
export interface Takeover {
  readonly job: string;
  readonly victim: string;
  readonly killedAt: number;
  readonly by: string;
  readonly claimedAt: number;
  /** From the kill to the next claim. */
  readonly ms: number;
  /** The victim's claim as the board last renewed it: the earliest a takeover could be. */
  readonly expiresAt: number;
  /** From that expiry to the next claim: how fast an expired claim is noticed and taken. */
  readonly afterExpiryMs: number;
  /**
   * Whether, when the victim's claim expired, another running conductor had a free slot: only
   * then is the takeover time the lease's doing rather than a queue's.
   */
  readonly freeSlot: boolean;
  /** Whether a server was down (or conductors backing off after it) between kill and claim. */
  readonly duringOutage: boolean;
}

/**
 * Whether a server was down, or conductors were still backing off after it came back (up to
 * `recoveryMs`, their longest backoff), at some moment between two times.
 */
function outageBetween(
  sorted: readonly LogLine[],
  from: number,
  to: number,
  recoveryMs: number,
): boolean {
  let downSince: number | undefined;
  for (const line of sorted) {
    if (line.kind !== 'fault') continue;
    if (line.type === 'outage-start') downSince = line.at;
    if (line.type === 'outage-end' && downSince !== undefined) {
      if (downSince <= to && line.at + recoveryMs >= from) return true;
      downSince = undefined;
    }
  }
  return downSince !== undefined && downSince <= to;
}

/** Whether a running conductor other than `victim` held fewer jobs than it may at `at`. */
function freeSlotAt(sorted: readonly LogLine[], victim: number, at: number): boolean {
  const concurrency = new Map<number, number>();
  const held = new Map<number, Set<string>>();
  const paused = new Set<number>();
  const gone = new Set<number>();
  for (const line of sorted) {
    if (line.at > at) break;
    if (line.kind === 'process' && line.type === 'ready')
      concurrency.set(line.pid, line.concurrency ?? 1);
    if (line.kind === 'process' && line.type === 'exit') gone.add(line.pid);
    if (line.kind === 'fault' && line.type === 'kill') gone.add(line.pid);
    if (line.kind === 'fault' && line.type === 'stop') paused.add(line.pid);
    if (line.kind === 'fault' && line.type === 'cont') paused.delete(line.pid);
    const jobs = held.get(line.pid) ?? new Set<string>();
    held.set(line.pid, jobs);
    if (line.kind === 'board' && line.ok && line.job) {
      if (line.op === 'claim') jobs.add(line.job);
      if (line.op === 'consume' || line.op === 'abandon') jobs.delete(line.job);
    }
    if (line.kind === 'event' && line.type === 'lost' && line.job) jobs.delete(line.job);
  }
  for (const [pid, limit] of concurrency) {
    if (pid === victim || gone.has(pid) || paused.has(pid)) continue;
    if ((held.get(pid)?.size ?? 0) < limit) return true;
  }
  return false;
}

/**
 * For each SIGKILL, each job the victim held at that moment (its latest claim of the job was
 * the job's latest, and it had not consumed, abandoned or lost it) and the time until another
 * process was granted it (when the claim's answer was logged).
 */
export function takeovers(
  lines: readonly LogLine[],
  /** How long after an outage conductors may still be backing off (the fixture's longest). */
  recoveryMs = 1_000,
): {
  takeovers: Takeover[];
  neverTaken: number;
} {
  const sorted = [...lines].sort((x, y) => x.seq - y.seq);
  const result: Takeover[] = [];
  let neverTaken = 0;
  for (const kill of sorted) {
    if (kill.kind !== 'fault' || kill.type !== 'kill') continue;
    const held = new Map<string, BoardLine>();
    const latest = new Map<string, BoardLine>();
    for (const line of sorted) {
      if (line.seq >= kill.seq) break;
      if (line.kind === 'board' && line.ok && line.op === 'claim' && line.job) {
        latest.set(line.job, line);
        if (line.pid === kill.pid) held.set(line.job, line);
      }
      if (line.pid !== kill.pid) continue;
      const gaveUp =
        line.kind === 'board' &&
        (((line.op === 'consume' || line.op === 'abandon') && line.ok) ||
          (line.op === 'extend' && !line.ok));
      if (gaveUp && line.job) held.delete(line.job);
      if (line.kind === 'event' && line.job && (line.type === 'lost' || line.type === 'completed'))
        held.delete(line.job);
    }
    for (const [job, claim] of held) {
      if (latest.get(job) !== claim) continue;
      const next = sorted.find(
        (line) =>
          line.seq > kill.seq &&
          line.kind === 'board' &&
          line.op === 'claim' &&
          line.ok &&
          line.job === job,
      );
      const ended = sorted.find(
        (line) =>
          line.seq > kill.seq &&
          line.seq < (next?.seq ?? Number.POSITIVE_INFINITY) &&
          line.kind === 'board' &&
          line.ok &&
          line.job === job &&
          (line.op === 'consume' || line.op === 'abandon'),
      );
      if (ended) continue;
      if (!next) {
        neverTaken++;
        continue;
      }
      const expiresAt = Math.max(
        claim.expiresAt ?? 0,
        ...sorted
          .filter(
            (line): line is BoardLine =>
              line.kind === 'board' &&
              line.op === 'extend' &&
              line.ok &&
              line.pid === kill.pid &&
              line.job === job &&
              line.token === claim.token &&
              line.seq < kill.seq,
          )
          .map((line) => line.expiresAt ?? 0),
      );
      result.push({
        job,
        victim: kill.conductor,
        killedAt: kill.at,
        by: next.conductor,
        claimedAt: next.at,
        ms: next.at - kill.at,
        expiresAt,
        afterExpiryMs: next.at - expiresAt,
        freeSlot: freeSlotAt(sorted, kill.pid, expiresAt),
        duringOutage: outageBetween(sorted, kill.at, next.at, recoveryMs),
      });
    }
  }
  return { takeovers: result, neverTaken };
}

/** The p-th percentile (0..100, nearest rank) of some numbers; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Groups violations by check for a report: counts and the first few messages of each. */
export function summarize(violations: readonly Violation[], examples = 5): string {
  if (violations.length === 0) return 'no violations';
  const parts: string[] = [];
  for (const check of Object.keys(CHECKS) as CheckId[]) {
    const mine = violations.filter((v) => v.check === check);
    if (mine.length === 0) continue;
    parts.push(
      `(${check}) ${CHECKS[check]}: ${mine.length} violation(s)`,
      ...mine.slice(0, examples).map((v) => `    ${v.message}`),
    );
  }
  return parts.join('\n');
}
