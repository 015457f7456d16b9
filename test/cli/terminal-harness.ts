import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Why terminal tests cannot run here, or undefined when util-linux `script` is installed. */
export const noTerminal: string | undefined = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'util-linux "script" is not installed, so no pseudo-terminal can be made';
  }
})();

/** `taskflow` running with its stdout on a pseudo-terminal, and everything it has drawn there. */
export interface TerminalSession {
  /** All the child wrote to the terminal so far, escape sequences included. */
  output(): string;
  /** Resolves with the output once `pattern` appears in it; rejects if the child exits first. */
  waitFor(pattern: RegExp): Promise<string>;
  /** Sends taskflow SIGTERM and resolves with its exit status once it has stopped. */
  stop(): Promise<number | null>;
  /** Resolves with the exit status when the child ends by itself. */
  readonly exited: Promise<number | null>;
}

/** Runs `taskflow ...args` in a pseudo-terminal made by `script`, as an operator's shell does. */
export function taskflowInTerminal(
  args: readonly string[],
  options: { readonly env?: Record<string, string> } = {},
): TerminalSession {
  const words = [process.execPath, '--import', TSX, MAIN, ...args].map(shellQuote).join(' ');
  const child: ChildProcess = spawn('script', ['-qfec', `exec ${words}`, '/dev/null'], {
    env: { ...process.env, TERM: 'xterm', ...options.env },
    // stdin stays open: script ends the session when its input ends.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters) wake();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      for (const wake of waiters) wake();
      resolve(code);
    });
  });
  return {
    output: () => output,
    exited,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(output)) {
            waiters.delete(check);
            resolve(output);
          } else if (child.exitCode !== null) {
            waiters.delete(check);
            reject(new Error(`taskflow exited before ${pattern} appeared; it printed:\n${output}`));
          }
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      // To taskflow itself: script would kill it 2 s after passing SIGTERM on.
      const pid = childOf(child.pid);
      if (pid !== undefined) process.kill(pid, 'SIGTERM');
      const code = await exited;
      child.stdin?.end();
      return code;
    },
  };
}

/** The one child process of `parent` (script's is taskflow), or undefined once it is gone. */
function childOf(parent: number | undefined): number | undefined {
  if (parent === undefined) return undefined;
  try {
    const pid = Number(execFileSync('ps', ['-o', 'pid=', '--ppid', String(parent)]).toString());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // ps exits 1 when there is no such process.
  }
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
