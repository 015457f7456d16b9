import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Redis server of the test's own, in a temporary folder on its own port, so a test can
 * pause, stop and restart it without disturbing the shared server other tests use. It keeps
 * an append-only file (`appendfsync always`), so a restart finds the board as it was.
 */
export class PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  #server: ChildProcess | undefined;

  private constructor(dir: string, port: number) {
    this.#dir = dir;
    this.port = port;
    this.url = `redis://127.0.0.1:${port}/0`;
  }

  /** Why no private server can be started here, or false. */
  static unavailable(): string | false {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
      return false;
    } catch {
      return 'redis-server is not installed';
    }
  }

  static async create(): Promise<PrivateRedis> {
    const dir = mkdtempSync(join(tmpdir(), 'taskflow-redis-'));
    const server = new PrivateRedis(dir, 20_000 + Math.floor(Math.random() * 20_000));
    await server.start();
    return server;
  }

  /** Starts the server (again, on the same port and files) and resolves once it accepts connections. */
  async start(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.#dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ];
    const server = spawn('redis-server', args, { stdio: 'ignore' });
    this.#server = server;
    for (let tries = 0; tries < 200; tries += 1) {
      if (server.exitCode !== null) throw new Error(`redis-server exited (${server.exitCode})`);
      if (await accepts(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  /** Freezes the server (SIGSTOP): connections stay open, commands wait unanswered. */
  pause(): void {
    this.#server?.kill('SIGSTOP');
  }

  resume(): void {
    this.#server?.kill('SIGCONT');
  }

  /** Stops the server (SIGTERM: it flushes its append-only file) and waits for it to exit. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGCONT');
    server.kill('SIGTERM');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
