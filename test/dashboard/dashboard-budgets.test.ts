import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testServers } from '../support/servers.ts';
import {
  buildDashboard,
  chromiumMissing,
  type DashboardHarness,
  startDashboard,
} from './dashboard-harness.ts';
import { dashboardRegistry, Gates, Repair } from './fixtures/dashboard-flows.ts';

// The dashboard's budgets (issue #12), measured in the browser and printed for
// docs/benchmarks.md; timings are reported, never asserted.

const skip = chromiumMissing();
const servers = await testServers('dashboard-budgets');
const RUNS = 200;
const TRIES = 3;

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

describe('dashboard budgets', { skip }, () => {
  const assets = join(servers.dir, 'assets');
  let harness: DashboardHarness;
  let idle: DashboardHarness;

  before(async () => {
    await buildDashboard(assets);
    const registry = dashboardRegistry(new Gates(), new Repair());
    harness = await startDashboard({ dir: join(servers.dir, 'busy'), assets, registry });
    // No conductor: a posted run stays PENDING, so its page draws the whole flow unrun.
    idle = await startDashboard({
      dir: join(servers.dir, 'idle'),
      assets,
      registry,
      conductors: 0,
    });
  });

  after(async () => {
    await harness?.close();
    await idle?.close();
  });

  it('reports the shipped JavaScript, compressed, loaded first and loaded with the first graph', (t) => {
    const page = readFileSync(join(assets, 'index.html'), 'utf8');
    const files = readdirSync(join(assets, 'assets')).filter((f) => f.endsWith('.js'));
    const sizes = (names: readonly string[], suffix: string): number =>
      names.reduce(
        (sum, name) => sum + statSync(join(assets, 'assets', `${name}${suffix}`)).size,
        0,
      );
    const initial = files.filter((name) => page.includes(`/assets/${name}`));
    const lazy = files.filter((name) => !initial.includes(name));
    assert.ok(initial.length > 0, 'index.html loads no script');
    for (const [label, names] of [
      ['first load (runs list)', initial],
      ['with the first graph (ELK)', lazy],
      ['all', files],
    ] as const) {
      t.diagnostic(
        `JS ${label}: ${kib(sizes(names, ''))} raw, ${kib(sizes(names, '.gz'))} gzip, ${kib(sizes(names, '.br'))} brotli`,
      );
    }
  });

  it(`reports the first render of the runs list with ${RUNS} runs stored`, async (t) => {
    const posted = await Promise.all(
      Array.from({ length: RUNS }, () => harness.api.post('/v1/runs', { flow: 'quick' })),
    );
    await Promise.all(posted.map((response) => harness.waitForJob(response.body.id)));
    const firstRow: number[] = [];
    let steps = '';
    for (let attempt = 0; attempt < TRIES; attempt++) {
      const page = await harness.page(harness.tokens.read);
      await page.goto(harness.url);
      await page.locator('table.runs tbody tr').first().waitFor();
      firstRow.push(await page.evaluate<number>('performance.now()'));
      // Where the time went: when each request of the page ended, from navigation start.
      steps = await page.evaluate<string>(`performance.getEntries()
        .filter((e) => e.entryType === 'resource' || e.entryType === 'navigation')
        .map((e) => new URL(e.name).pathname.replace(/-[\\w-]{8}\\./, '.') + ' ' + Math.round(e.responseEnd))
        .join(', ')`);
      assert.equal(await page.locator('table.runs tbody tr').count(), 50);
      await page.close();
    }
    t.diagnostic(
      `runs list first render (navigation start to the first page of 50 rows): ${firstRow.map(Math.round).join(', ')} ms; median ${Math.round(median(firstRow))} ms (last: ${steps})`,
    );
  });

  it('reports the layout and drawing of a 2,000-atom graph, collapsed and expanded', async (t) => {
    const posted = await idle.api.post('/v1/runs', { flow: 'big' });
    assert.equal(posted.status, 202);
    const page = await idle.page(idle.tokens.read);
    await page.goto(`${idle.url}/#/runs/${posted.body.id}`);
    const drawn = page.locator('[data-graph-ms]');
    await drawn.waitFor({ timeout: 120_000 });
    const collapsed = Number(await drawn.getAttribute('data-graph-ms'));
    const collapsedLayout = Number(await drawn.getAttribute('data-layout-ms'));
    const groups = await page.locator('.graph .node.collapsed').count();
    await page.getByRole('button', { name: 'Expand all' }).click();
    await drawn.waitFor({ state: 'detached' });
    await drawn.waitFor({ timeout: 120_000 });
    const expanded = Number(await drawn.getAttribute('data-graph-ms'));
    const expandedLayout = Number(await drawn.getAttribute('data-layout-ms'));
    assert.equal(await page.locator('.graph [data-atom]').count(), 2000);
    await idle.screenshot(page, 'big-graph');
    const frames = await page.evaluate<number[]>(`(async () => {
      const canvas = document.querySelector('.graph-canvas');
      const box = canvas.getBoundingClientRect();
      const times = [];
      for (let i = 0; i < 30; i++) {
        canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: i % 2 ? 120 : -120, clientX: box.left + box.width / 2, clientY: box.top + box.height / 2, bubbles: true, cancelable: true }));
        const before = performance.now();
        await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
        times.push(performance.now() - before);
      }
      return times;
    })()`);
    t.diagnostic(
      `2,000-atom graph on screen: ${collapsed} ms collapsed into ${groups} groups (ELK's worker started; layout ${collapsedLayout} ms), ${expanded} ms all expanded (layout ${expandedLayout} ms); a zoom step on the expanded graph: median ${median(frames).toFixed(1)} ms for two frames`,
    );
  });
});
