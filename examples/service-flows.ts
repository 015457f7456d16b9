/**
 * The flows of the example service: `taskflow serve --flows examples/service-flows.ts`.
 *
 * - `provision`: creates a volume and boots a server (its inputs have a zod schema); with `failBoot: true` the boot fails and
 *   the volume is deleted again (the run ends REVERTED); with `failRelease: true` as well, the
 *   deletion fails too and the run ends FAILURE, for an operator to finish by hand
 *   (`skip-revert` or `resolve`).
 * - `review`: a graph whose decider approves an order of at most 5 items; a bigger one skips
 *   the approval and what follows it (IGNORE) and the run still succeeds.
 * - `flaky-charge`: a charge that fails on its first two attempts; a `Times` retry runs it
 *   again with backoff, and the third attempt succeeds.
 * - `slow-report`: gathers data in `steps` steps of `stepMs` milliseconds, reporting its
 *   progress after each, then publishes a report.
 */
import { z } from 'zod';
import { FlowRegistry, graphFlow, linearFlow, TaskFlowError, Times, task } from '../src/index.ts';

const createVolume = task({
  name: 'create-volume',
  requires: ['size'],
  provides: 'volumeId',
  optional: { failRelease: false },
  execute: ({ size }: { size: number; failRelease: boolean }) => `vol-${size}gb`,
  revert: ({ size, failRelease }: { size: number; failRelease: boolean }) => {
    if (failRelease) throw new TaskFlowError('RELEASE_FAILED', `volume vol-${size}gb is busy`);
  },
});

const bootServer = task({
  name: 'boot-server',
  requires: ['volumeId', 'serverName'],
  optional: { failBoot: false },
  provides: 'serverId',
  execute: ({
    volumeId,
    serverName,
    failBoot,
  }: {
    volumeId: string;
    serverName: string;
    failBoot: boolean;
  }) => {
    if (failBoot) throw new TaskFlowError('BOOT_FAILED', `server ${serverName} did not boot`);
    return `${serverName}@${volumeId}`;
  },
});

const checkOrder = task({
  name: 'check-order',
  requires: ['quantity'],
  provides: 'withinLimit',
  execute: ({ quantity }: { quantity: number }) => quantity <= 5,
});
const approve = task({ name: 'approve', provides: 'approval', execute: () => 'approved' });
const ship = task({ name: 'ship', requires: ['approval'], execute: () => 'shipped' });

const charge = task({
  name: 'charge',
  requires: ['amount', 'attempt'],
  provides: 'receipt',
  execute: ({ amount, attempt }: { amount: number; attempt: number }) => {
    if (attempt < 3) {
      throw new TaskFlowError('PAYMENT_BUSY', `payment service busy (attempt ${attempt})`, {
        retryable: true,
      });
    }
    return `receipt for ${amount} on attempt ${attempt}`;
  },
});

const gather = task({
  name: 'gather-data',
  optional: { steps: 5, stepMs: 200 },
  provides: 'data',
  execute: async ({ steps, stepMs }: { steps: number; stepMs: number }, { progress, signal }) => {
    for (let step = 1; step <= steps; step++) {
      await new Promise((resolve) => setTimeout(resolve, stepMs));
      signal.throwIfAborted();
      progress(step / steps, { step });
    }
    return `data of ${steps} steps`;
  },
});
const publish = task({
  name: 'publish-report',
  requires: ['data'],
  provides: 'report',
  execute: ({ data }: { data: string }) => `report on ${data}`,
});

/** The example service's flows. */
export const registry = new FlowRegistry()
  .register({
    name: 'provision',
    version: '1',
    // Checked by the service before a run is stored, and published with the flow.
    inputs: z.object({
      size: z.number().int().min(1).max(16_384).describe('volume size in GiB'),
      serverName: z.string().min(1).max(63),
      failBoot: z.boolean().optional(),
      failRelease: z.boolean().optional(),
    }),
    build: () => linearFlow('provision', [createVolume, bootServer]),
  })
  .register({
    name: 'review',
    version: '1',
    build: () =>
      graphFlow('review', [checkOrder, approve, ship]).link('check-order', 'approve', {
        decider: (results) => results['check-order'] === true,
        depth: 'ALL',
      }),
  })
  .register({
    name: 'flaky-charge',
    version: '1',
    build: () =>
      linearFlow('flaky-charge', [charge], {
        retry: new Times({
          name: 'charge-again',
          attempts: 3,
          provides: 'attempt',
          backoff: { initialMs: 10 },
        }),
      }),
  })
  .register({
    name: 'slow-report',
    version: '1',
    build: () => linearFlow('slow-report', [gather, publish]),
  });
