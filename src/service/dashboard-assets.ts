import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the built dashboard, with the compressed copies the build made of it. */
export interface DashboardAsset {
  readonly body: Uint8Array;
  readonly gzip: Uint8Array | undefined;
  readonly brotli: Uint8Array | undefined;
  readonly type: string;
  /** A strong ETag of the uncompressed body. */
  readonly etag: string;
  /** True for files whose name carries a content hash (under `assets/`): cacheable forever. */
  readonly immutable: boolean;
}

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * Where the package keeps the built dashboard: `dist/dashboard/` beside `dist/service/` once
 * built, also found from `src/service/` when the service runs from its sources. Undefined when
 * the dashboard was never built (`npm run build` builds it).
 */
export function defaultDashboardDir(): string | undefined {
  const candidates = [
    new URL('../dashboard/', import.meta.url),
    new URL('../../dist/dashboard/', import.meta.url),
  ];
  const found = candidates.find((url) => existsSync(new URL('index.html', url)));
  return found === undefined ? undefined : fileURLToPath(found);
}

/**
 * Reads every file of a built dashboard into memory, keyed by URL path (`/index.html`,
 * `/assets/index-3f2a.js`). A `.gz` or `.br` file beside another is its compressed copy, not
 * an asset of its own. A directory that does not exist holds no assets.
 */
export async function loadDashboardAssets(
  dir: string,
): Promise<ReadonlyMap<string, DashboardAsset>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
  const names = new Set(files);
  const assets = new Map<string, DashboardAsset>();
  for (const file of files) {
    if ((file.endsWith('.gz') || file.endsWith('.br')) && names.has(file.slice(0, -3))) continue;
    const path = `/${relative(dir, file).split(sep).join('/')}`;
    const body = await readFile(file);
    assets.set(path, {
      body,
      gzip: names.has(`${file}.gz`) ? await readFile(`${file}.gz`) : undefined,
      brotli: names.has(`${file}.br`) ? await readFile(`${file}.br`) : undefined,
      type: MEDIA_TYPES[extname(file)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: path.startsWith('/assets/'),
    });
  }
  return assets;
}
