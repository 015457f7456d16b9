import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import preact from '@preact/preset-vite';
import { defineConfig, type Plugin } from 'vite';

const gzipped = promisify(gzip);
const brotlied = promisify(brotliCompress);

/** Text files worth compressing; images other than SVG are compressed already. */
const COMPRESSIBLE = /\.(js|css|html|svg|json)$/;

/**
 * Writes a `.gz` and a `.br` copy beside every compressible file of the build, so that the
 * service sends compressed files without compressing them on each request.
 */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'taskflow-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async closeBundle() {
      const entries = await readdir(outDir, { recursive: true, withFileTypes: true });
      const files = entries
        .filter((entry) => entry.isFile() && COMPRESSIBLE.test(entry.name))
        .map((entry) => join(entry.parentPath, entry.name));
      await Promise.all(
        files.map(async (file) => {
          const body = await readFile(file);
          await writeFile(`${file}.gz`, await gzipped(body, { level: 9 }));
          await writeFile(
            `${file}.br`,
            await brotlied(body, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 11,
                [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
              },
            }),
          );
        }),
      );
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [preact({ prefreshEnabled: false, devToolsEnabled: false }), precompress()],
  // For working on the dashboard: `npx vite --config dashboard/vite.config.ts` serves the sources
  // with the API of a running service (TASKFLOW_API, default http://127.0.0.1:8080) behind /v1.
  server: { proxy: { '/v1': process.env.TASKFLOW_API ?? 'http://127.0.0.1:8080' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
