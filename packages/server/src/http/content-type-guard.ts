// In auth mode none a request body must say it is JSON: a page on another site can send
// text/plain, form or multipart bodies without asking (no-cors), but not application/json.
import type { FastifyInstance } from 'fastify';
import { KerutaError } from '@keruta/protocol';

/** The error table has no 415 row: the code of a body that does not fit, with the status that says why. */
const UNSUPPORTED_MEDIA_TYPE = 415;

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined) return true;
  return typeof length === 'string' && length.trim() !== '' && Number(length) !== 0;
}

export function registerJsonOnlyBodies(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!hasBody(request.headers)) return;
    const type = request.headers['content-type'];
    const media = (type ?? '').split(';')[0]?.trim().toLowerCase();
    if (media === 'application/json') return;
    const error = new KerutaError(
      'INVALID_LOG_FORMAT',
      `Content-Type: must be application/json without authentication, got ${JSON.stringify(type ?? '')}`,
    );
    return reply.code(UNSUPPORTED_MEDIA_TYPE).type('application/json; charset=utf-8').send(error.toBody());
  });
}
