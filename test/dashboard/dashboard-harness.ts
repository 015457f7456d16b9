import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import {
  createSqliteJobBoard,
  createSqliteRunStore,
  type FlowRegistry,
  type Job,
  openRunChangeFeed,
} from '../../src/index.ts';
import { openTokenStore, startService } from '../../src/service/index.ts';
import { ApiClient } from '../service/api-client.ts';

/** The browser the tests drive: Debian's chromium, never a downloaded one. */
export const CHROMIUM = process.env.TASKFLOW_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why the browser tests cannot run here, or false when they can. Under CI=true a missing
 * browser is a failure, since .ci/run installs it.
 */
export function chromiumMissing(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const reason = `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set TASKFLOW_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(`${reason}. Under CI=true this is a failure.`);
  return reason;
}

/** Builds the dashboard from its sources into `outDir`, as `npm run build` does into dist/. */
export async function buildDashboard(outDir: string): Promise<void> {
  await build({
    configFile: fileURLToPath(new URL('../../dashboard/vite.config.ts', import.meta.url)),
    build: { outDir },
    logLevel: 'warn',
  });
}

/** A service on a free port with a temporary SQLite store, its dashboard, and a browser. */
export interface DashboardHarness {
  readonly url: string;
  readonly tokens: { readonly read: string; readonly operate: string };
  /** Calls the API with the operate token. */
  readonly api: ApiClient;
  /** Resolves once the job (and its run) is finished or dead-lettered. */
  waitForJob(id: string): Promise<Job>;
  /** Console errors, page errors and CSP violations seen on any page so far. */
  readonly problems: readonly string[];
  /** A new page (own session storage) signed in with `token`, or with none; light by default. */
  page(token: string | undefined, options?: { readonly dark?: boolean }): Promise<Page>;
  /** Saves a screenshot as NAME.png in TASKFLOW_SCREENSHOTS (default: the test's temp dir). */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startDashboard(options: {
  readonly dir: string;
  readonly assets: string;
  readonly registry: FlowRegistry;
  readonly conductors?: number;
  /** `'none'`: the service checks no token (the tokens are made all the same). */
  readonly auth?: 'tokens' | 'none';
}): Promise<DashboardHarness> {
  mkdirSync(options.dir, { recursive: true });
  const runsPath = join(options.dir, 'runs.db');
  const runs = createSqliteRunStore({ path: runsPath });
  const board = createSqliteJobBoard({ path: join(options.dir, 'jobs.db') });
  const tokenStore = await openTokenStore(`sqlite://${runsPath}`);
  const feed = await openRunChangeFeed(`sqlite://${runsPath}`);
  const tokens = {
    read: (await tokenStore.create('read', 'dashboard reader')).token,
    operate: (await tokenStore.create('operate', 'dashboard operator')).token,
  };
  const service = await startService({
    runs,
    board,
    registry: options.registry,
    feed,
    auth: options.auth === 'none' ? 'none' : { tokens: tokenStore },
    dashboard: options.assets,
    conductors: options.conductors ?? 1,
    conductor: { maxAttempts: 1 },
  });
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];
  const shots = process.env.TASKFLOW_SCREENSHOTS ?? join(options.dir, 'screenshots');
  mkdirSync(shots, { recursive: true });
  return {
    url: service.url,
    tokens,
    api: new ApiClient(service.url, { Authorization: `Bearer ${tokens.operate}` }),
    problems,
    waitForJob: (id) => board.wait(id),
    async page(token, pageOptions) {
      const context = await browser.newContext({
        viewport: { width: 1360, height: 860 },
        colorScheme: pageOptions?.dark === true ? 'dark' : 'light',
      });
      contexts.push(context);
      // Runs in the page before its own scripts (as text: the tests have no DOM types).
      await context.addInitScript({
        content: `
          const token = ${JSON.stringify(token ?? null)};
          if (token !== null && sessionStorage.getItem('taskflow.token') === null) {
            sessionStorage.setItem('taskflow.token', token);
          }
          document.addEventListener('securitypolicyviolation', (event) => {
            console.error('CSP violation: ' + event.violatedDirective + ' blocked ' + event.blockedURI);
          });`,
      });
      const page = await context.newPage();
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        // The browser logs every 4xx; a refused form (400), token (401) or scope (403) is an
        // answer the page shows, not a fault.
        if (message.type() === 'error' && !/status of 40[013] /.test(message.text())) {
          problems.push(`console: ${message.text()}`);
        }
      });
      return page;
    },
    async screenshot(page, name) {
      const path = join(shots, `${name}.png`);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      for (const context of contexts) await context.close();
      await browser.close();
      await service.close();
      await tokenStore.close();
      await feed.close();
      await board.close();
      await runs.close();
    },
  };
}
