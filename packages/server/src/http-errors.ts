// Every error leaves the server as {code, message, timestamp} with the status of its code:
// this is the one place where errors of any origin are mapped to the table.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { KerutaError, isKerutaError } from '@keruta/protocol';

/** Maps an error thrown anywhere while serving a request to a KerutaError. */
export function toKerutaError(error: unknown): KerutaError {
  if (isKerutaError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KerutaError('MESSAGE_TOO_LARGE', 'body: larger than the server accepts');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KerutaError('INVALID_LOG_FORMAT', 'body: is empty; send a JSON log entry');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new KerutaError('INVALID_LOG_FORMAT', 'body: is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new KerutaError('INVALID_LOG_FORMAT', 'body: its length does not match Content-Length');
    default:
      break;
  }
  if (error instanceof SyntaxError) return new KerutaError('INVALID_LOG_FORMAT', 'body: is not valid JSON');
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new KerutaError('INVALID_MESSAGE_FORMAT', `request: ${fastifyError.message ?? 'not understood'}`);
  }
  return new KerutaError('DATABASE_ERROR', 'the server could not complete the request', { cause: error });
}

export function sendError(reply: FastifyReply, error: KerutaError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('Retry-After', String(error.retryAfter));
  return reply.code(error.status).type('application/json; charset=utf-8').send(error.toBody());
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = toKerutaError(error);
  if (mapped.status >= 500) request.log.error({ err: mapped.cause ?? error, code: mapped.code }, 'request failed');
  return sendError(reply, mapped);
}
