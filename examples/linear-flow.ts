/**
 * A linear flow that provisions a server: create a volume, boot a server, attach the volume.
 * Each task declares what it requires and provides; the engine feeds each task the values the
 * tasks before it provided, and the run resolves with every symbol the flow provides.
 * Every state change is persisted to the embedded default run store, a SQLite file
 * (`.taskflow/runs.db`, or the URL in TASKFLOW_STORE), so a crashed run could be resumed.
 *
 * Run: node --import tsx examples/linear-flow.ts
 */
import { mkdirSync } from 'node:fs';
import {
  type AtomContext,
  Engine,
  type EngineEvent,
  linearFlow,
  openRunStore,
  Task,
  task,
} from '../src/index.ts';

/** Class form: a task with its own constructor and a revert that undoes execute. */
class CreateVolume extends Task<{ size: number }, { id: string; sizeGb: number }> {
  constructor() {
    super({
      name: 'create-volume',
      requires: ['size'],
      provides: { id: 'volumeId', sizeGb: 'volumeSize' },
    });
  }

  execute({ size }: { size: number }): { id: string; sizeGb: number } {
    const id = `vol-${size}gb`;
    console.log(`  create-volume: created ${id}`);
    return { id, sizeGb: size };
  }

  override revert(): void {
    console.log('  create-volume: deleting the volume');
  }
}

/** Function form: the input type is inferred from `execute`, the output from its return. */
const bootServer = task({
  name: 'boot-server',
  requires: ['image', 'flavor'],
  provides: ['serverId', 'ip'],
  execute: async (
    { image, flavor }: { image: string; flavor: string },
    { progress }: AtomContext,
  ) => {
    progress(0.5);
    console.log(`  boot-server: booted ${image} as ${flavor}`);
    return ['srv-1', '10.0.0.7'] as [string, string];
  },
  revert: () => console.log('  boot-server: deleting the server'),
});

const attachVolume = task({
  name: 'attach-volume',
  requires: ['server', 'volume'],
  rebind: { server: 'serverId', volume: 'volumeId' },
  optional: { device: '/dev/vdb' },
  provides: 'attachment',
  execute: ({ server, volume, device }: { server: string; volume: string; device: string }) => {
    console.log(`  attach-volume: attached ${volume} to ${server} at ${device}`);
    return `${server}:${device}`;
  },
});

const flow = linearFlow('provision', [new CreateVolume(), bootServer, attachVolume]);

// Print each atom state change as it happens.
const onEvent = (event: EngineEvent): void => {
  if (event.type === 'atom') console.log(`${event.atom}: ${event.from} -> ${event.to}`);
  if (event.type === 'flow') console.log(`flow ${event.flow}: ${event.from} -> ${event.to}`);
};

console.log(
  `flow "${flow.name}" requires [${flow.requires.join(', ')}] and provides [${flow.provides.join(', ')}]`,
);
mkdirSync('.taskflow', { recursive: true });
const runs = await openRunStore(process.env.TASKFLOW_STORE ?? 'sqlite://.taskflow/runs.db');
const engine = new Engine(flow, {
  store: { size: 10, image: 'ubuntu-24.04', flavor: 'm1.small' },
  listeners: [onEvent],
  persistence: { runs },
});
const { state, outputs } = await engine.run();
const run = await runs.loadRun(engine.runId);
console.log(`persisted: flow ${run?.flow.state}, ${run?.atoms.length} atoms recorded`);
await runs.close();
console.log(`state: ${state}`);
for (const [symbol, value] of Object.entries(outputs))
  console.log(`output ${symbol} = ${JSON.stringify(value)}`);
const stats = engine.statistics;
console.log(`executed ${stats.executed}, succeeded ${stats.succeeded}, reverted ${stats.reverted}`);
