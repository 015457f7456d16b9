import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// Absolute, so the CLI can run in a working directory without node_modules.
const TSX = import.meta.resolve('tsx');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

// Each child compiles the library with tsx; more of them than cores only makes each one slower.
const MAX_CHILDREN = availableParallelism();
let running = 0;
const queue: (() => void)[] = [];

/** Runs `taskflow ...args` as a child process, the way a user does. */
export async function taskflow(
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: Record<string, string> } = {},
): Promise<CliResult> {
  if (running >= MAX_CHILDREN) await new Promise<void>((resolve) => queue.push(resolve));
  running += 1;
  try {
    return await spawnCli(args, options);
  } finally {
    running -= 1;
    queue.shift()?.();
  }
}

function spawnCli(
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: Record<string, string> } = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.env?.TASKFLOW_STORE === undefined) delete env.TASKFLOW_STORE;
  if (options.env?.TASKFLOW_RUNS === undefined) delete env.TASKFLOW_RUNS;
  if (options.env?.TASKFLOW_BOARD === undefined) delete env.TASKFLOW_BOARD;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, MAIN, ...args],
      { cwd: options.cwd ?? process.cwd(), env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A temporary folder removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
