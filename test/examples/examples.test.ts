import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
// Examples that persist write to a scratch SQLite file, not to the repository's .taskflow/.
const scratch = mkdtempSync(join(tmpdir(), 'taskflow-examples-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs an example as its README says (`node --import tsx examples/NAME.ts`) and returns its lines. */
async function runExample(name: string): Promise<string[]> {
  const { stdout, stderr } = await run(
    process.execPath,
    ['--import', 'tsx', `examples/${name}.ts`],
    {
      cwd: root,
      timeout: 30_000,
      env: { ...process.env, TASKFLOW_STORE: `sqlite://${join(scratch, `${name}.db`)}` },
    },
  );
  assert.equal(stderr, '', `examples/${name}.ts wrote to stderr`);
  return stdout.trimEnd().split('\n');
}

describe('examples', () => {
  it('linear-flow provisions a volume, a server and an attachment in order, persists the run to SQLite and prints the outputs', async () => {
    assert.deepEqual(await runExample('linear-flow'), [
      'flow "provision" requires [size, image, flavor] and provides [volumeId, volumeSize, serverId, ip, attachment]',
      'flow provision: PENDING -> RUNNING',
      'create-volume: PENDING -> RUNNING',
      '  create-volume: created vol-10gb',
      'create-volume: RUNNING -> SUCCESS',
      'boot-server: PENDING -> RUNNING',
      '  boot-server: booted ubuntu-24.04 as m1.small',
      'boot-server: RUNNING -> SUCCESS',
      'attach-volume: PENDING -> RUNNING',
      '  attach-volume: attached vol-10gb to srv-1 at /dev/vdb',
      'attach-volume: RUNNING -> SUCCESS',
      'flow provision: RUNNING -> SUCCESS',
      'persisted: flow SUCCESS, 3 atoms recorded',
      'state: SUCCESS',
      'output volumeId = "vol-10gb"',
      'output volumeSize = 10',
      'output serverId = "srv-1"',
      'output ip = "10.0.0.7"',
      'output attachment = "srv-1:/dev/vdb"',
      'executed 3, succeeded 3, reverted 0',
    ]);
  });

  it('graph-revert runs tasks in dependency order, reverts all of them newest first and rejects with the original error', async () => {
    assert.deepEqual(await runExample('graph-revert'), [
      'execute create-network() -> networkId',
      'execute create-security-group(networkId-1) -> groupId',
      'execute create-subnet(networkId-1) -> subnetId',
      'execute allocate-ip(subnetId-1) -> ip',
      'execute create-port(ip-1, groupId-1) -> portId',
      'execute boot-server(portId-1) -> fails',
      'revert  boot-server (own outcome ok=false; failed atoms: boot-server)',
      'revert  create-port (undo portId-1)',
      'revert  allocate-ip (undo ip-1)',
      'revert  create-subnet (undo subnetId-1)',
      'revert  create-security-group (undo groupId-1)',
      'revert  create-network (undo networkId-1)',
      'run rejected with QuotaExceeded: no cores left in project "demo" (same error object: true)',
      'flow state: REVERTED',
      '  boot-server: REVERTED',
      '  create-port: REVERTED',
      '  allocate-ip: REVERTED',
      '  create-security-group: REVERTED',
      '  create-subnet: REVERTED',
      '  create-network: REVERTED',
    ]);
  });

  it('retry-third-time fails twice, waits 10 then 20 ms, and succeeds on the third attempt', async () => {
    assert.deepEqual(await runExample('retry-third-time'), [
      'attempt 1: reserve-seat on LH 404 fails',
      'reserve-retry decided RETRY after attempt 1 (ServiceUnavailable: booking service busy (attempt 1))',
      'attempt 1: reverting reserve-seat',
      'waiting 10 ms before the next attempt',
      'attempt 2: reserve-seat on LH 404 fails',
      'reserve-retry decided RETRY after attempt 2 (ServiceUnavailable: booking service busy (attempt 2))',
      'attempt 2: reverting reserve-seat',
      'waiting 20 ms before the next attempt',
      'attempt 3: reserve-seat on LH 404 succeeds',
      'state: SUCCESS, seat: 14C',
      'retry history: 1[reserve-seat] 2[reserve-seat] 3[]',
      'retried 2 times',
    ]);
  });

  it('fan-out-fan-in asks every shop with at most three at once, then maps and reduces to the cheapest offer', async () => {
    const lines = await runExample('fan-out-fan-in');
    // Start order is deterministic (definition order); finish order is not printed.
    assert.deepEqual(lines, [
      'asking north for kettle',
      'asking south for kettle',
      'asking east for kettle',
      'asking west for kettle',
      'north: 1999 + 499 shipping = 2498',
      'south: 1749 + 499 shipping = 2248',
      'east: 2150 + 499 shipping = 2649',
      'west: 1800 + 499 shipping = 2299',
      'cheapest: south at 2248 cents',
      'at most 3 quotes ran at once (concurrency 3)',
    ]);
  });

  it('suspend-resume leaves c pending, continues with only c, does nothing when finished, and repeats after reset', async () => {
    assert.deepEqual(await runExample('suspend-resume'), [
      'first run:',
      '  execute a',
      '  execute b',
      '  -> SUSPENDED; a=SUCCESS b=SUCCESS c=PENDING; outputs {"a":"A","b":"B"}',
      'second run (continues):',
      '  execute c',
      '  -> SUCCESS; a=SUCCESS b=SUCCESS c=SUCCESS; outputs {"a":"A","b":"B","c":"C"}',
      'third run (already finished, nothing runs):',
      '  -> SUCCESS',
      'after reset:',
      '  PENDING; a=PENDING b=PENDING c=PENDING',
      'fourth run (after reset, the same run repeats and suspends again):',
      '  execute a',
      '  execute b',
      '  -> SUSPENDED; a=SUCCESS b=SUCCESS c=PENDING',
    ]);
  });

  it('deciders ignore the target alone, its neighbours, or everything after it, depending on depth', async () => {
    assert.deepEqual(await runExample('deciders'), [
      'quantity 3, depth ALL: SUCCESS; ran [check-stock, reserve, ship, email-customer]; ignored []',
      'quantity 9, depth ALL: SUCCESS; ran [check-stock]; ignored [reserve, ship, email-customer]',
      'quantity 9, depth NEIGHBORS: SUCCESS; ran [check-stock, email-customer]; ignored [reserve, ship]',
      'quantity 9, depth ATOM: SUCCESS; ran [check-stock, ship, email-customer]; ignored [reserve]',
    ]);
  });
});
