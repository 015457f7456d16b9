import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A PostgreSQL server of the test's own, in a temporary folder on its own port, so a test can
 * stop and start it without disturbing the shared server other tests use.
 */
export class PrivatePostgres {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  readonly #bin: string;

  private constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.#dir = dir;
    this.port = port;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  /** Why no private server can be made here (no binaries, not root), or false. */
  static unavailable(): string | false {
    if (!binaries()) return 'PostgreSQL server binaries (initdb, pg_ctl) are not installed';
    if (userInfo().uid !== 0)
      return 'starting a private PostgreSQL needs root (to run it as the postgres user)';
    return false;
  }

  static create(): PrivatePostgres {
    const bin = binaries();
    if (!bin) throw new Error('PostgreSQL server binaries are not installed');
    const dir = mkdtempSync(join(tmpdir(), 'taskflow-pg-'));
    chownSync(dir, uidOf('postgres'), gidOf('postgres'));
    // A random port can be taken (it lies in the kernel's range for outgoing connections):
    // another one is tried when the server cannot listen.
    for (let attempt = 1; ; attempt++) {
      const server = new PrivatePostgres(bin, dir, 40_000 + Math.floor(Math.random() * 20_000));
      if (attempt === 1)
        server.#as(['initdb', '-D', server.#data, '-A', 'trust', '-U', 'postgres']);
      try {
        server.start();
        return server;
      } catch (error) {
        if (attempt === 5) throw error;
      }
    }
  }

  get #data(): string {
    return join(this.#dir, 'data');
  }

  start(): void {
    this.#as([
      'pg_ctl',
      '-D',
      this.#data,
      '-l',
      join(this.#dir, 'log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.#dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  }

  stop(): void {
    this.#as(['pg_ctl', '-D', this.#data, '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // Already stopped.
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #as(command: readonly string[]): void {
    const [program = '', ...args] = command;
    execFileSync('runuser', ['-u', 'postgres', '--', join(this.#bin, program), ...args], {
      stdio: 'ignore',
    });
  }
}

function binaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort().at(-1);
  const bin = version ? join(root, version, 'bin') : undefined;
  return bin && existsSync(join(bin, 'initdb')) ? bin : undefined;
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}
