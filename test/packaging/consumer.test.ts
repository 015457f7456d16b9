import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Builds the package as `npm run build` does, packs it with `npm pack`, installs the tarball
// into a fresh consumer project and type-checks (strict, skipLibCheck: false) and runs a
// program there. The build runs in a copy of the tree, so the repository's own dist/ is left
// alone; the consumer gets exactly the packed files plus the declared dependencies, linked
// from this repository's node_modules (no registry access).

const root = fileURLToPath(new URL('../../', import.meta.url));
const modules = join(root, 'node_modules');
const work = mkdtempSync(join(tmpdir(), 'taskflow-consumer-'));
after(() => rmSync(work, { recursive: true, force: true }));

function npmWorks(): string | false {
  const probe = spawnSync('npm', ['--version'], { encoding: 'utf8' });
  return probe.status === 0
    ? false
    : `npm cannot run here (${probe.error?.message ?? probe.stderr})`;
}

function run(command: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`,
    );
  }
}

function link(name: string, into: string): void {
  const target = join(modules, name);
  assert.ok(existsSync(target), `${name} is not installed in this repository`);
  mkdirSync(dirname(join(into, name)), { recursive: true });
  symlinkSync(target, join(into, name), 'dir');
}

/** Copies what the build needs, builds with the package's own script, and packs. */
function pack(): string {
  const stage = join(work, 'stage');
  mkdirSync(stage);
  for (const name of [
    'src',
    'dashboard',
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
  ]) {
    cpSync(join(root, name), join(stage, name), { recursive: true });
  }
  symlinkSync(modules, join(stage, 'node_modules'), 'dir');
  run('npm', ['run', 'build', '--silent'], stage);
  run('npm', ['pack', '--silent', '--pack-destination', work], stage);
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote no tarball');
  return join(work, tarball);
}

const CONSUMER = `import { linearFlow, openRunStore, runFlow, task, TaskFlowError } from 'taskflow-ts';
import { ThreadExecutor } from 'taskflow-ts/executors';
import { createSqliteRunStore } from 'taskflow-ts/sqlite';
import { FakeClock } from 'taskflow-ts/testing';
import { tasks } from './tasks.js';

const double = task({
  name: 'double',
  requires: ['n'],
  provides: 'twice',
  execute: ({ n }: { n: number }) => n * 2,
});
const flow = linearFlow('consumer', [double]);

const runs = createSqliteRunStore({ path: process.argv[2] ?? 'runs.db' });
try {
  const outputs = await runFlow(flow, { store: { n: 21 }, persistence: { runs } });
  if (outputs.twice !== 42) throw new Error(\`expected 42, got \${String(outputs.twice)}\`);
} finally {
  await runs.close();
}

let missing = '';
try {
  await openRunStore('postgres://app:s3cret@127.0.0.1:1/app');
} catch (error) {
  if (error instanceof TaskFlowError) missing = \`\${error.code}: \${error.message}\`;
}
new FakeClock();

// The built worker-thread executor loads the compiled tasks module in its threads.
const threads = new ThreadExecutor({ tasks: new URL('./tasks.js', import.meta.url), maxThreads: 1 });
let thread = 0;
try {
  const ran = await runFlow(linearFlow('threaded', tasks), { executors: { threads } });
  thread = ran.where as number;
} finally {
  await threads.close();
}
console.log(JSON.stringify({ ok: true, missing, thread }));
`;

const TASKS = `import { threadId } from 'node:worker_threads';
import { task } from 'taskflow-ts';

export const tasks = [task({ name: 'where', provides: 'where', runsOn: 'threads', execute: () => threadId })];
`;

const skip = npmWorks();

describe('the packed package in a consumer project', { skip }, () => {
  it('type-checks strictly without skipLibCheck and runs a flow on SQLite', {
    timeout: 90_000,
  }, () => {
    const tarball = pack();
    const listing = run('tar', ['-tzf', tarball], work).split('\n');
    assert.ok(listing.includes('package/LICENSE'), 'LICENSE is packed');
    assert.ok(listing.includes('package/CHANGELOG.md'), 'CHANGELOG.md is packed');
    assert.ok(listing.includes('package/dist/dashboard/index.html'), 'the dashboard is packed');
    assert.ok(!listing.some((file) => file.endsWith('.js.map')), 'no source maps without sources');
    assert.ok(!listing.some((file) => file.includes('run-store-contract')), 'no fast-check suite');

    const consumer = join(work, 'consumer');
    const installed = join(consumer, 'node_modules', 'taskflow-ts');
    mkdirSync(installed, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'], work);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    // What `npm install` of the tarball would add: its dependencies, and the consumer's tools.
    // pg and ioredis are optional peers and stay absent.
    for (const name of Object.keys(manifest.dependencies ?? {}))
      link(name, join(consumer, 'node_modules'));
    for (const name of ['typescript', '@types/node']) link(name, join(consumer, 'node_modules'));

    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          types: ['node'],
          outDir: 'out',
        },
        files: ['main.ts', 'tasks.ts'],
      }),
    );
    writeFileSync(join(consumer, 'main.ts'), CONSUMER);
    writeFileSync(join(consumer, 'tasks.ts'), TASKS);

    run(
      process.execPath,
      [join(consumer, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      consumer,
    );
    const out = run(
      process.execPath,
      [join(consumer, 'out/main.js'), join(consumer, 'runs.db')],
      consumer,
    );
    const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as {
      ok?: boolean;
      missing?: string;
      thread?: number;
    };
    assert.equal(result.ok, true);
    assert.ok((result.thread ?? 0) > 0, `the task ran on a worker thread (${result.thread})`);
    assert.match(result.missing ?? '', /^DRIVER_MISSING: .*npm install pg/);
    assert.doesNotMatch(result.missing ?? '', /s3cret/);

    // The installed bin and a TypeScript registry module on Node 20: refused with what to do
    // while tsx is absent, loaded through tsx once it is installed.
    writeFileSync(
      join(consumer, 'registry.ts'),
      "import { FlowRegistry, linearFlow, task } from 'taskflow-ts';\n" +
        "const t: ReturnType<typeof task> = task({ name: 't', execute: () => 1 });\n" +
        "export const registry = new FlowRegistry().register({ name: 'r', version: '1', build: () => linearFlow('r', [t]) });\n",
    );
    const bin = join(installed, 'dist/cli/main.js');
    const board = `sqlite://${join(consumer, 'jobs.db')}`;
    const post = ['jobs', 'post', '--name', 'n', '--flow', 'r@1', '--registry', 'registry.ts'];
    const refused = spawnSync(process.execPath, [bin, ...post, '--board', board], {
      cwd: consumer,
      encoding: 'utf8',
    });
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /is TypeScript.*compile it to JavaScript.*install tsx/);
    link('tsx', join(consumer, 'node_modules'));
    const posted = spawnSync(process.execPath, [bin, ...post, '--board', board], {
      cwd: consumer,
      encoding: 'utf8',
    });
    assert.equal(posted.status, 0, posted.stderr);
    assert.match(posted.stdout, /\(n, r@1\) is UNCLAIMED/);
  });
});
