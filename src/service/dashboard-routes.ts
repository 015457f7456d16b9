import type { Context } from 'hono';
import { type DashboardAsset, loadDashboardAssets } from './dashboard-assets.ts';
import { ProblemError, problemResponse } from './problem.ts';
import type { ServiceApp } from './service-env.ts';

/**
 * What the dashboard's pages may load: only this origin's scripts, styles, images and workers,
 * and only this origin's API; no inline script, no framing, no plugins.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/**
 * Serves the built dashboard: `/` (its page), `/favicon.svg` and `/assets/*` (hashed files).
 * They need no token (the page asks for one and sends it to the API). The page is revalidated
 * on every load; hashed files are cached for a year. Without a built dashboard in `dir`, each
 * answers how to build it. Register before the authentication middleware.
 */
export function registerDashboardRoutes(app: ServiceApp, dir: string | undefined): void {
  let loading: Promise<ReadonlyMap<string, DashboardAsset>> | undefined;
  const serve = async (c: Context, path: string): Promise<Response> => {
    loading ??= dir === undefined ? Promise.resolve(new Map()) : loadDashboardAssets(dir);
    const assets = await loading;
    if (!assets.has('/index.html')) {
      throw new ProblemError(
        404,
        'dashboard-not-built',
        'Dashboard not built',
        'This service has no built dashboard; run "npm run build" (it builds dist/dashboard/) or pass the dashboard option.',
      );
    }
    const asset = assets.get(path);
    if (asset === undefined) {
      throw new ProblemError(404, 'not-found', 'Not found', `The dashboard has no file ${path}.`);
    }
    return assetResponse(c, asset);
  };
  const answer = (c: Context, path: string): Promise<Response> =>
    serve(c, path).catch((error: unknown) => {
      if (!(error instanceof ProblemError)) throw error;
      return problemResponse(c, error);
    });
  app.get('/', (c) => answer(c, '/index.html'));
  app.get('/favicon.svg', (c) => answer(c, '/favicon.svg'));
  app.get('/assets/*', (c) => answer(c, c.req.path));
}

function assetResponse(c: Context, asset: DashboardAsset): Response {
  const headers = new Headers(SECURITY_HEADERS);
  headers.set('Content-Type', asset.type);
  headers.set('ETag', asset.etag);
  headers.set('Vary', 'Accept-Encoding');
  headers.set(
    'Cache-Control',
    asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  );
  if (
    c.req
      .header('If-None-Match')
      ?.split(/\s*,\s*/)
      .includes(asset.etag)
  ) {
    return new Response(null, { status: 304, headers });
  }
  const accepted = acceptedEncodings(c.req.header('Accept-Encoding'));
  let body = asset.body;
  if (asset.brotli !== undefined && accepted.has('br')) {
    body = asset.brotli;
    headers.set('Content-Encoding', 'br');
  } else if (asset.gzip !== undefined && accepted.has('gzip')) {
    body = asset.gzip;
    headers.set('Content-Encoding', 'gzip');
  }
  headers.set('Content-Length', String(body.byteLength));
  return new Response(body, { status: 200, headers });
}

/** The codings an Accept-Encoding header accepts (those without `q=0`). */
function acceptedEncodings(header: string | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const refused = params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
    if (coding !== undefined && coding !== '' && !refused) accepted.add(coding);
  }
  return accepted;
}
