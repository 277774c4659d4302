import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app-types.ts';

/** Where `npm run build` puts the dashboard: packages/web/dist, found through the workspace link. */
export function dashboardDirectory(): string | null {
  try {
    const web = dirname(createRequire(import.meta.url).resolve('@switchyard/web/package.json'));
    const dist = join(web, 'dist');
    return existsSync(join(dist, 'index.html')) ? dist : null;
  } catch {
    return null;
  }
}

/**
 * Serves the dashboard's files at `/`. Hashed assets are cached for a year; index.html never,
 * so a new build is picked up on the next load. Its routes (/jobs/42/log, /farm) are the page's
 * own: a GET for an unknown path that wants HTML gets index.html (the history fallback), while
 * /api/*, other methods and non-HTML requests keep the JSON 404 of `notFound`.
 */
export async function registerDashboard(
  app: App,
  root: string | null,
  notFound: (request: FastifyRequest, reply: FastifyReply) => void,
): Promise<void> {
  if (root === null) {
    app.get('/', { schema: { hide: true }, config: { scopeFor: async () => null } }, (_request, reply) =>
      reply.code(404).send({
        error: { code: 'not-found', message: 'the dashboard is not built: run `npm run build`', details: {} },
      }),
    );
    app.setNotFoundHandler(notFound);
    return;
  }
  const assets = join(root, 'assets');
  await app.register(async (files) => {
    // The page and its assets are the same for every farm: anyone may load them, and sign in from there.
    files.addHook('onRoute', (route) => {
      route.config = { ...route.config, scopeFor: async () => null };
    });
    await files.register(fastifyStatic, {
      root,
      prefix: '/',
      // Looked up per request rather than listed at start: a rebuilt dashboard (new asset names,
      // and index.html is read per request) works without restarting the coordinator.
      wildcard: true,
      index: false,
      cacheControl: false,
      setHeaders: (reply, path) => {
        reply.header('cache-control', path.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
        reply.header('x-content-type-options', 'nosniff');
      },
    });
  });
  // Read per request (it is tiny), so a rebuilt dashboard is served without a restart.
  const page = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(await readFile(join(root, 'index.html')));
  app.get('/', { schema: { hide: true }, config: { scopeFor: async () => null } }, page);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] as string;
    const wantsPage =
      (request.method === 'GET' || request.method === 'HEAD') &&
      !path.startsWith('/api/') &&
      (request.headers.accept ?? '').includes('text/html');
    if (wantsPage) return page(request, reply);
    return notFound(request, reply);
  });
}
