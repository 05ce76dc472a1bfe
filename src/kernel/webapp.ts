import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import type { HttpApp } from './http.js';

/** The apps of the web shell: each path prefix answers `index.html`, whose router shows the page. */
export const WEB_APPS = ['citizen', 'employee'] as const;

/** The page's own policy: scripts, styles and calls only from this origin; photos also as blobs. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/**
 * Serves the built web apps (web/dist): hashed assets with a year of caching, served pre-compressed
 * (brotli or gzip, written by the build) when the browser accepts it, and `index.html` for every
 * path under `/citizen/` and `/employee/` so that links into the apps work after a reload.
 * Answers false (and registers nothing) when the apps are not built.
 */
export async function addWebApps(app: HttpApp, webDir: string): Promise<boolean> {
  const index = path.join(webDir, 'index.html');
  if (!fs.existsSync(index)) return false;
  await app.register(fastifyStatic, { root: webDir, serve: false, preCompressed: true, cacheControl: false });

  const page = (reply: FastifyReply) =>
    reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .sendFile('index.html');
  const hidden = { schema: { hide: true }, config: { open: true } } as const;

  app.get('/', hidden, async (_request, reply) => reply.redirect('/citizen/'));
  for (const name of WEB_APPS) {
    app.get(`/${name}`, hidden, async (_request, reply) => reply.redirect(`/${name}/`));
    app.get(`/${name}/*`, hidden, async (_request, reply) => page(reply));
  }
  app.get<{ Params: { '*': string } }>('/assets/*', hidden, async (request, reply) => {
    const file = request.params['*'];
    // Only the build's own flat, hashed file names: no paths, no dot files.
    if (!/^[\w.-]+$/.test(file) || file.startsWith('.')) return reply.callNotFound();
    if (!fs.existsSync(path.join(webDir, 'assets', file))) return reply.callNotFound();
    return reply.header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff').sendFile(`assets/${file}`);
  });
  return true;
}
