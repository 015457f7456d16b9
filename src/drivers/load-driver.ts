import { createRequire } from 'node:module';
import { TaskFlowError } from '../core/errors.ts';

// Drivers are loaded on first use, not when the package is imported: an application that keeps
// its runs in SQLite never loads `pg` or `ioredis` (nor needs them installed), and importing
// the package root costs no driver start-up. All three drivers are CommonJS, so `require` loads
// them synchronously, which keeps the SQLite openers synchronous.
const require = createRequire(import.meta.url);

/**
 * Loads the driver package `name` (e.g. `pg`) for `purpose` (e.g. "postgres:// URLs"). A
 * missing package is thrown as a `TaskFlowError` with code `DRIVER_MISSING` that names the
 * package to install.
 *
 * @example
 * const pg = loadDriver<typeof import('pg')>('pg', 'postgres:// URLs');
 */
export function loadDriver<T>(name: string, purpose: string): T {
  try {
    return require(name) as T;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const missing =
      code === 'MODULE_NOT_FOUND' && error instanceof Error && error.message.includes(`'${name}'`);
    if (!missing) throw error;
    throw new TaskFlowError(
      'DRIVER_MISSING',
      `The package "${name}" is needed for ${purpose} but is not installed; install it with \`npm install ${name}\`.`,
      { cause: error },
    );
  }
}
