import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { registry } from '../../examples/service-flows.ts';
import {
  createSqliteJobBoard,
  createSqliteRunStore,
  openRunChangeFeed,
  type RunChangeFeed,
} from '../../src/index.ts';
import { createServiceApp, openTokenStore, type TokenStore } from '../../src/service/index.ts';
import { testServers } from '../support/servers.ts';

const servers = await testServers('dashboard-serving');

const PAGE =
  '<!doctype html><title>taskflow</title><script type="module" src="/assets/index-abc123.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(2000))});`;

describe('dashboard files served by the service', () => {
  const assets = join(servers.dir, 'assets');
  const runs = createSqliteRunStore({ path: join(servers.dir, 'runs.db') });
  const board = createSqliteJobBoard({ path: join(servers.dir, 'jobs.db') });
  let tokens: TokenStore;
  let feed: RunChangeFeed;
  let app: ReturnType<typeof createServiceApp>;

  before(async () => {
    mkdirSync(join(assets, 'assets'), { recursive: true });
    writeFileSync(join(assets, 'index.html'), PAGE);
    writeFileSync(join(assets, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const script = join(assets, 'assets', 'index-abc123.js');
    writeFileSync(script, SCRIPT);
    writeFileSync(`${script}.gz`, gzipSync(SCRIPT));
    writeFileSync(`${script}.br`, brotliCompressSync(SCRIPT));
    tokens = await openTokenStore(`sqlite://${join(servers.dir, 'runs.db')}`);
    feed = await openRunChangeFeed(`sqlite://${join(servers.dir, 'runs.db')}`);
    app = createServiceApp({ runs, board, registry, feed, auth: { tokens }, dashboard: assets });
  });

  after(async () => {
    await tokens?.close();
    await feed?.close();
    await board.close();
    await runs.close();
  });

  it('serves the page at / without a token, revalidated on every load, under a strict CSP', async () => {
    const response = await app.request('/');
    assert.equal(response.status, 200);
    assert.equal(await response.text(), PAGE);
    assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]) {
      assert.ok(csp.includes(directive), `${directive} missing from ${csp}`);
    }
    assert.ok(!csp.includes('unsafe'), csp);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  });

  it('answers a revalidation of an unchanged page with 304', async () => {
    const first = await app.request('/');
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^"[\w-]+"$/);
    const again = await app.request('/', { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
  });

  it('serves hashed files for a year, brotli or gzip as the browser accepts', async () => {
    const path = '/assets/index-abc123.js';
    const br = await app.request(path, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
    assert.equal(br.status, 200);
    assert.equal(br.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(br.headers.get('content-encoding'), 'br');
    assert.equal(br.headers.get('vary'), 'Accept-Encoding');
    assert.equal(br.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString(), SCRIPT);
    const gz = await app.request(path, { headers: { 'Accept-Encoding': 'gzip, br;q=0' } });
    assert.equal(gz.headers.get('content-encoding'), 'gzip');
    assert.equal(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString(), SCRIPT);
    const plain = await app.request(path);
    assert.equal(plain.headers.get('content-encoding'), null);
    assert.equal(await plain.text(), SCRIPT);
  });

  it('answers a file the dashboard lacks with a 404 problem, and still guards the API', async () => {
    const missing = await app.request('/assets/nope.js');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), 'application/problem+json');
    assert.equal((await app.request('/favicon.svg')).headers.get('content-type'), 'image/svg+xml');
    assert.equal((await app.request('/v1/runs')).status, 401);
    assert.equal((await app.request('/index.html.gz')).status, 401);
  });

  it('says how to build the dashboard when it is not built, and serves none when turned off', async () => {
    const unbuilt = createServiceApp({
      runs,
      board,
      registry,
      feed,
      auth: { tokens },
      dashboard: join(servers.dir, 'no-such-dir'),
    });
    const response = await unbuilt.request('/');
    assert.equal(response.status, 404);
    assert.match(((await response.json()) as { detail: string }).detail, /npm run build/);
    const off = createServiceApp({ runs, board, registry, feed, auth: 'none', dashboard: false });
    assert.equal((await off.request('/')).status, 404);
  });
});
