/**
 * A graph flow whose order comes from what each task requires and provides. The tasks are added
 * in no particular order; the engine runs them in dependency order. The last task fails, so
 * everything that ran is reverted, newest first, and the run rejects with the original error.
 *
 * Run: node --import tsx examples/graph-revert.ts
 */
import { Engine, graphFlow, type RevertContext, task } from '../src/index.ts';

const log = (line: string): void => console.log(line);

/** A step that records its execute and its revert. */
function step<In extends Record<string, unknown>>(
  name: string,
  requires: (keyof In & string)[],
  provides: string,
) {
  return task<In, string>({
    name,
    requires,
    provides,
    execute: (inputs) => {
      const used = requires.map((r) => String(inputs[r])).join(', ');
      log(`execute ${name}(${used}) -> ${provides}`);
      return `${provides}-1`;
    },
    revert: (_inputs, { outcome }: RevertContext<string>) => {
      log(`revert  ${name} (undo ${outcome.ok ? outcome.result : 'a failed execute'})`);
    },
  });
}

class QuotaExceeded extends Error {
  override name = 'QuotaExceeded';
}

const bootServer = task({
  name: 'boot-server',
  requires: ['portId'],
  provides: 'serverId',
  execute: ({ portId }: { portId: string }): string => {
    log(`execute boot-server(${portId}) -> fails`);
    throw new QuotaExceeded('no cores left in project "demo"');
  },
  revert: (_inputs, { outcome, flowFailures }: RevertContext<string>) => {
    const failed = [...flowFailures.keys()].join(', ');
    log(`revert  boot-server (own outcome ok=${outcome.ok}; failed atoms: ${failed})`);
  },
});

// Added out of order on purpose: edges come from requires/provides, not from this list.
const flow = graphFlow('network-and-server', [
  bootServer,
  step('create-port', ['ip', 'groupId'], 'portId'),
  step('allocate-ip', ['subnetId'], 'ip'),
  step('create-security-group', ['networkId'], 'groupId'),
  step('create-subnet', ['networkId'], 'subnetId'),
  step('create-network', [], 'networkId'),
]);

const engine = new Engine(flow);
try {
  await engine.run();
  log('unexpected: the run succeeded');
} catch (error) {
  const err = error as Error;
  log(
    `run rejected with ${err.name}: ${err.message} (same error object: ${err instanceof QuotaExceeded})`,
  );
}
log(`flow state: ${engine.state}`);
for (const atom of engine.atoms()) log(`  ${atom.name}: ${atom.state}`);
