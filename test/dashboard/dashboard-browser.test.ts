import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { testServers } from '../support/servers.ts';
import {
  buildDashboard,
  chromiumMissing,
  type DashboardHarness,
  startDashboard,
} from './dashboard-harness.ts';
import { dashboardRegistry, Gates, Repair } from './fixtures/dashboard-flows.ts';

const skip = chromiumMissing();
/** Evaluated in the page: the token the dashboard keeps. */
const STORED_TOKEN = "sessionStorage.getItem('taskflow.token')";
/** Evaluated in the page: the focused element's tag and its atom name or text. */
/**
 * Evaluated in the page: the controls without an accessible name (from aria-label,
 * aria-labelledby, a label, the text, or a title), as tag and outer HTML.
 */
const UNNAMED_CONTROLS = `[...document.querySelectorAll(
  'a[href], button, input, select, textarea, [tabindex], [role=button], [role=tab]'
)].filter((el) => {
  const labelledBy = (el.getAttribute('aria-labelledby') ?? '').split(' ')
    .map((id) => document.getElementById(id)?.textContent ?? '').join('');
  const labels = [...(el.labels ?? [])].map((l) => l.textContent).join('');
  const name = (el.getAttribute('aria-label') ?? '') + labelledBy + labels
    + (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' ? '' : el.textContent ?? '')
    + (el.getAttribute('title') ?? '');
  return name.trim() === '';
}).map((el) => el.outerHTML.slice(0, 120))`;
const FOCUSED = `(() => {
  const el = document.activeElement;
  return el.tagName + '|' + (el.getAttribute('data-atom') ?? el.textContent.trim());
})()`;
const servers = await testServers('dashboard-browser');

describe('dashboard in a browser', { skip }, () => {
  const gates = new Gates();
  const repair = new Repair();
  let harness: DashboardHarness;

  before(async () => {
    const assets = join(servers.dir, 'assets');
    await buildDashboard(assets);
    harness = await startDashboard({
      dir: servers.dir,
      assets,
      registry: dashboardRegistry(gates, repair),
    });
  });

  after(async () => {
    await harness?.close();
  });

  async function post(flow: string, inputs: Record<string, unknown>): Promise<string> {
    const posted = await harness.api.post('/v1/runs', { flow, inputs });
    assert.equal(posted.status, 202, JSON.stringify(posted.body));
    return posted.body.id;
  }

  const atom = (page: Page, name: string, state: string) =>
    page.locator(`.graph [data-atom="${name}"][data-state="${state}"]`);

  it('says plainly that a wrong token was refused, and signs in with a right one', async () => {
    const page = await harness.page('tfs_not-a-real-token');
    await page.goto(harness.url);
    const refusal = page.getByRole('alert').filter({ hasText: 'This token was not accepted' });
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? '', /unknown or revoked/);
    assert.equal(await page.evaluate(STORED_TOKEN), null);
    await harness.screenshot(page, 'wrong-token');
    await page.getByLabel('Bearer token').fill(harness.tokens.read);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    assert.equal(await page.evaluate(STORED_TOKEN), harness.tokens.read);
  });

  it('shows a run posted through the API appear in the runs list and change state live', async () => {
    const page = await harness.page(harness.tokens.read);
    await page.goto(harness.url);
    await page.locator('.live.on').waitFor();
    const id = await post('gated', { gate: 'list' });
    const row = page.locator(`tr[data-run="${id}"]`);
    await row.and(page.locator('[data-state="RUNNING"]')).waitFor();
    await harness.screenshot(page, 'runs-list');
    gates.open('list');
    await row.and(page.locator('[data-state="SUCCESS"]')).waitFor();
    assert.match((await row.textContent()) ?? '', /gated v1/);
  });

  it('starts a run from the flows form, checking its inputs, and shows its atoms change live', async () => {
    const page = await harness.page(harness.tokens.operate);
    await page.goto(`${harness.url}/#/flows/gated`);
    await page.getByRole('heading', { name: /gated/ }).first().waitFor();
    await page.getByRole('button', { name: 'Start run' }).click();
    assert.equal(await page.locator('.field-error').first().textContent(), 'required by the flow');
    await page.getByLabel('gate', { exact: true }).fill('form');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/runs\//);
    await atom(page, 'wait-for-gate', 'RUNNING').waitFor();
    assert.equal(await atom(page, 'prepare', 'SUCCESS').count(), 1);
    assert.equal(await atom(page, 'finish', 'PENDING').count(), 1);
    await harness.screenshot(page, 'run-live');
    gates.open('form');
    await atom(page, 'finish', 'SUCCESS').waitFor();
    await page.locator('.page-head .badge.state-SUCCESS').waitFor();
    await page.getByRole('tab', { name: 'timeline' }).click();
    assert.equal((await page.locator('.timeline .span.kind-execute').count()) >= 3, true);
    await harness.screenshot(page, 'run-timeline');
    await page.getByRole('tab', { name: 'events' }).click();
    const events = await page.locator('table.events tbody tr').allInnerTexts();
    assert.ok(events.some((row) => /wait-for-gate\s+RUNNING/.test(row)));
    assert.ok(events.some((row) => /run\s+SUCCESS/.test(row)));
  });

  it("types the form by the flow's input schema, and shows the service's refusal on its field", async () => {
    const page = await harness.page(harness.tokens.operate);
    await page.goto(`${harness.url}/#/flows/sized`);
    const size = page.getByLabel('size', { exact: true });
    await size.waitFor();
    assert.equal(await size.getAttribute('type'), 'number');
    assert.equal(await size.getAttribute('max'), '100');
    const region = page.getByLabel('region', { exact: true });
    assert.equal(await region.inputValue(), '"eu"');
    await size.fill('0');
    await page.getByRole('button', { name: 'Start run' }).click();
    const error = page.locator('#input-sized-size-error');
    assert.equal(await error.textContent(), 'must be at least 1');
    await size.fill('3');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.getByRole('alert').filter({ hasText: 'refuses these inputs' }).waitFor();
    assert.equal(await error.textContent(), 'must be even');
    await harness.screenshot(page, 'start-form');
    await size.fill('4');
    await region.selectOption('"us"');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/#\/runs\//);
    await atom(page, 'allocate', 'SUCCESS').waitFor();
  });

  it("opens a failed atom's panel with its failure and cause chain; the reverted atom looks reverted", async () => {
    const id = await post('charge-card', { amount: 30 });
    await harness.waitForJob(id);
    const page = await harness.page(harness.tokens.read);
    await page.goto(`${harness.url}/#/runs/${id}`);
    await atom(page, 'reserve', 'REVERTED').waitFor();
    await atom(page, 'charge', 'REVERTED').click();
    const panel = page.locator('[data-atom-panel="charge"]');
    await panel.waitFor();
    const chain = await panel.locator('.cause-chain > li').allInnerTexts();
    assert.deepEqual(
      chain.map((line) => line.replace(/\s+/g, ' ').trim()),
      [
        'TaskFlowError: charging 30 was declined',
        'caused by TaskFlowError: the card gateway did not answer in 5 s',
        'caused by Error: socket hang up',
      ],
    );
    assert.match(page.url(), /\/charge$/);
    await harness.screenshot(page, 'failed-atom');
  });

  it("shows a retried atom's attempts on the timeline and the retry's history in its panel", async () => {
    const id = await post('flaky', {});
    await harness.waitForJob(id);
    const page = await harness.page(harness.tokens.read);
    await page.goto(`${harness.url}/#/runs/${id}`);
    await atom(page, 'call-partner', 'SUCCESS').waitFor();
    await page.getByRole('tab', { name: 'timeline' }).click();
    const lane = page.locator('.lane').filter({ hasText: 'call-partner' });
    assert.deepEqual(
      await lane.locator('.span').evaluateAll((spans) => spans.map((span) => span.className)),
      [
        'span kind-execute state-FAILURE',
        'span kind-revert state-REVERTED',
        'span kind-execute state-FAILURE',
        'span kind-revert state-REVERTED',
        'span kind-execute state-SUCCESS',
      ],
    );
    await harness.screenshot(page, 'run-retries');
    await page.locator('.lane-label', { hasText: 'try-thrice' }).click();
    const history = page.locator('[data-atom-panel="try-thrice"] .history > li');
    await history.nth(2).waitFor();
    assert.match(
      (await history.nth(0).textContent()) ?? '',
      /call-partner failed: TaskFlowError: partner busy on attempt 1/,
    );
  });

  it('draws nested flows as groups and greys the branch a decider ignored, in the dark theme too', async () => {
    const id = await post('nested', { quantity: 9 });
    await harness.waitForJob(id);
    const page = await harness.page(harness.tokens.read, { dark: true });
    await page.goto(`${harness.url}/#/runs/${id}`);
    await atom(page, 'ship', 'IGNORE').waitFor();
    assert.equal(await atom(page, 'approve', 'IGNORE').count(), 1);
    const groups = await page.locator('.graph .group text').allTextContents();
    assert.deepEqual(groups.sort(), ['graph: dispatch', 'unordered: pack']);
    assert.equal(await page.locator('.graph .edge.decider.ignored').count(), 1);
    const background = await page.evaluate<string>(
      'getComputedStyle(document.body).backgroundColor',
    );
    assert.equal(background, 'rgb(18, 21, 27)');
    await harness.screenshot(page, 'run-graph-dark');
  });

  it('trashes a job from the jobs page after a confirmation', async () => {
    const id = await post('quick', {});
    await harness.waitForJob(id);
    const page = await harness.page(harness.tokens.operate);
    await page.goto(`${harness.url}/#/jobs`);
    const row = page.locator(`tr[data-job="${id}"]`);
    await row.waitFor();
    await row.getByRole('button', { name: `Trash job ${id}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await harness.screenshot(page, 'trash-confirm');
    await dialog.getByRole('button', { name: 'Trash' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Job ${id} is trashed.` })
      .waitFor();
    await row.waitFor({ state: 'detached' });
    assert.equal((await harness.api.get(`/v1/jobs/${id}`)).status, 404);
  });

  it('redrives a dead-lettered job from its run page, and the run finishes', async () => {
    const id = await post('fragile', { key: 'dead' });
    const dead = await harness.waitForJob(id);
    assert.equal(dead.state, 'DEAD_LETTER');
    repair.repaired = true;
    const page = await harness.page(harness.tokens.operate);
    await page.goto(`${harness.url}/#/runs/${id}`);
    await page.getByRole('alert').filter({ hasText: 'Dead-lettered' }).waitFor();
    await page.getByRole('button', { name: 'Redrive job' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Redrive' }).click();
    await page.locator('.page-head .badge.state-SUCCESS').waitFor();
    await atom(page, 'work', 'SUCCESS').waitFor();
  });

  it('suspends and resumes a run with confirmed operator actions, recorded in its audit list', async (t) => {
    const openapi = await harness.api.get('/v1/openapi.json');
    if (openapi.body.paths['/v1/runs/{id}/suspend'] === undefined) {
      t.skip('the service has no operator action routes yet');
      return;
    }
    const id = await post('gated', { gate: 'suspend' });
    const page = await harness.page(harness.tokens.operate);
    await page.goto(`${harness.url}/#/runs/${id}`);
    await atom(page, 'wait-for-gate', 'RUNNING').waitFor();
    await page.getByRole('button', { name: 'Suspend' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(/Reason/).fill('checking the dashboard');
    await dialog.getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('status').filter({ hasText: 'Suspend requested' }).waitFor();
    // The engine has taken the request once the run is SUSPENDING; only then may the atom end.
    await page.locator('.page-head .badge.state-SUSPENDING').waitFor();
    gates.open('suspend');
    await page.locator('.page-head .badge.state-SUSPENDED').waitFor();
    assert.equal(await atom(page, 'finish', 'PENDING').count(), 1);
    await harness.screenshot(page, 'run-suspended');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Resume' }).click();
    await atom(page, 'finish', 'SUCCESS').waitFor();
    await page.getByRole('tab', { name: 'details' }).click();
    const audit = await page.locator('.audit li').allTextContents();
    assert.equal(audit.length, 2, audit.join('; '));
    assert.match(audit[0] ?? '', /suspend by dashboard operator \(“checking the dashboard”\)/);
    assert.match(audit[1] ?? '', /resume by dashboard operator/);
  });

  it("shows a read-only token no action, as the service's whoami says its scope", async () => {
    const id = await post('gated', { gate: 'read-only' });
    const page = await harness.page(harness.tokens.read);
    await page.goto(`${harness.url}/#/runs/${id}`);
    await atom(page, 'wait-for-gate', 'RUNNING').waitFor();
    await page.locator('.read-only').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Suspend' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0);
    await page.goto(`${harness.url}/#/flows/gated`);
    await page.locator('.read-only').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Start run' }).count(), 0);
    gates.open('read-only');
    await harness.waitForJob(id);
  });

  it('lists the live conductor with what it holds', async () => {
    const page = await harness.page(harness.tokens.read);
    await page.goto(`${harness.url}/#/conductors`);
    await page.locator('[data-conductor]').first().waitFor();
    assert.match(
      (await page.locator('[data-conductor]').first().textContent()) ?? '',
      /Holds no job|lease/,
    );
    await harness.screenshot(page, 'conductors');
  });

  it('reaches the pages, a graph node and its panel by keyboard alone', async () => {
    const id = await post('quick', {});
    await harness.waitForJob(id);
    const page = await harness.page(harness.tokens.read);
    await page.goto(`${harness.url}/#/runs/${id}`);
    await atom(page, 'only', 'SUCCESS').waitFor();
    const seen: string[] = [];
    for (let step = 0; step < 40; step++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate<string>(FOCUSED));
      if (seen.at(-1) === 'g|only') break;
    }
    for (const label of ['Runs', 'Jobs', 'Flows', 'Conductors']) {
      assert.ok(
        seen.includes(`A|${label}`),
        `${label} link not reached by Tab: ${seen.join(', ')}`,
      );
    }
    assert.equal(seen.at(-1), 'g|only', `graph node not reached by Tab: ${seen.join(', ')}`);
    await page.keyboard.press('Enter');
    await page.locator('[data-atom-panel="only"]').waitFor();
  });

  it('gives every control on the main screens an accessible name', async () => {
    const id = await post('charge-card', { amount: 5 });
    await harness.waitForJob(id);
    const page = await harness.page(harness.tokens.operate);
    const unnamed: string[] = [];
    for (const path of [
      '#/runs',
      `#/runs/${id}/charge`,
      '#/jobs',
      '#/flows/gated',
      '#/conductors',
    ]) {
      await page.goto(`${harness.url}/${path}`);
      await page.locator('main h1').first().waitFor();
      await page.locator('.graph [data-graph-ms], table, .cards, .empty').first().waitFor();
      unnamed.push(
        ...(await page.evaluate<string[]>(UNNAMED_CONTROLS)).map((c) => `${path}: ${c}`),
      );
    }
    assert.deepEqual(unnamed, []);
  });

  it('opens without a sign-in on a service that checks no token', async () => {
    const open = await startDashboard({
      dir: join(servers.dir, 'no-auth'),
      assets: join(servers.dir, 'assets'),
      registry: dashboardRegistry(gates, repair),
      auth: 'none',
    });
    try {
      const id = (await open.api.post('/v1/runs', { flow: 'quick', inputs: {} })).body.id;
      await open.waitForJob(id);
      const page = await open.page(undefined);
      await page.goto(open.url);
      await page.locator(`tr[data-run="${id}"][data-state="SUCCESS"]`).waitFor();
      assert.equal(await page.locator('header.top').getByText('no authentication').count(), 1);
      assert.deepEqual(open.problems, []);
    } finally {
      await open.close();
    }
  });

  it('runs without console errors or content-security-policy violations', () => {
    assert.deepEqual(harness.problems, []);
  });
});
