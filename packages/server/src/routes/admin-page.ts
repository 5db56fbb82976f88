// The admin page at `/`: the static files of the built keruta-web package, under a strict
// Content-Security-Policy (no inline script or style, connections only back to this server).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

export const ADMIN_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Where the page's files are: `admin-page/` of this package, a copy of keruta-web's build made by
 * keruta-web's `npm run build` (scripts/copy-admin-page.mjs) and shipped in the package, so
 * that an installed keruta-api needs no keruta-web.
 */
export function adminPageRoot(): string {
  return fileURLToPath(new URL('../../admin-page', import.meta.url));
}

export function registerAdminPage(app: FastifyInstance, { logger, root = adminPageRoot() }: { logger: FastifyBaseLogger; root?: string | undefined }): void {
  if (root === undefined || !existsSync(join(root, 'index.html'))) {
    logger.warn({ root }, 'admin page not built: `npm run build` builds it; / is not served');
    return;
  }
  void app.register(fastifyStatic, {
    root,
    prefix: '/',
    // Routes for the files present at start-up only, so that unknown paths keep the API's 404.
    wildcard: false,
    index: ['index.html'],
    decorateReply: false,
    setHeaders(reply, path) {
      reply.header('X-Content-Type-Options', 'nosniff');
      if (path.endsWith('.html')) {
        reply.header('Content-Security-Policy', ADMIN_PAGE_CSP);
        reply.header('Referrer-Policy', 'no-referrer');
        reply.header('Cache-Control', 'no-cache');
      } else {
        // Asset names carry a hash of their content.
        reply.header('Cache-Control', 'public, max-age=31536000, immutable');
      }
    },
    cacheControl: false,
  });
}
