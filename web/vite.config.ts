import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Writes `.br` and `.gz` next to every script, style and page of the build, so the server sends
 * them as they are (no compression work per request; @fastify/static's `preCompressed`).
 */
function precompress(): Plugin {
  return {
    name: 'plinth-precompress',
    apply: 'build',
    writeBundle(options) {
      const out = options.dir ?? path.join(here, 'dist');
      const walk = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
      for (const file of walk(out).filter((f) => /\.(js|css|html|svg|json)$/.test(f))) {
        const content = fs.readFileSync(file);
        fs.writeFileSync(`${file}.gz`, zlib.gzipSync(content, { level: 9 }));
        fs.writeFileSync(`${file}.br`, zlib.brotliCompressSync(content, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
    },
  };
}

// `npm run dev:web` serves the apps with hot reload and sends API calls to a running `npm start`.
const api = process.env['PLINTH_API'] ?? 'http://127.0.0.1:8080';
const proxied = ['/user', '/user-otp', '/localization', '/mdms-v2', '/egov-mdms-service', '/pgr-services', '/egov-workflow-v2', '/filestore', '/egov-user-event', '/boundary-service', '/access', '/inbox', '/egov-hrms', '/dashboard'];

export default defineConfig({
  root: here,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    reportCompressedSize: false,
    rolldownOptions: {
      // rjsf marks its hooks 'use client' (for React server components): meaningless in this build.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
  plugins: [precompress()],
  server: { proxy: Object.fromEntries(proxied.map((p) => [p, api])) },
});
