// The one error type keruta-client throws: a code from protocol's table when the server answered
// with one, or a client-side code when no keruta answer arrived at all.
import { isErrorCode, isFinalError, parseRetryAfter, readErrorBody, type ErrorCode } from '@keruta/protocol';

/**
 * Conditions the server's table cannot name, because no keruta answer came back:
 * `NETWORK_ERROR` (the server could not be reached) and `UNEXPECTED_RESPONSE` (an answer that is
 * not keruta's, e.g. a proxy's HTML error page, or a body that does not fit its schema).
 */
export const CLIENT_ERROR_CODES = ['NETWORK_ERROR', 'UNEXPECTED_RESPONSE'] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

export interface KerutaClientErrorOptions {
  /** The HTTP status, when there was an HTTP answer. */
  status?: number;
  /** Seconds to wait before retrying, from `Retry-After` (RATE_LIMIT_EXCEEDED). */
  retryAfter?: number;
  /** The server's `timestamp` of the error. */
  timestamp?: string;
  cause?: unknown;
}

export class KerutaClientError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  readonly status: number | undefined;
  readonly retryAfter: number | undefined;
  readonly timestamp: string | undefined;

  constructor(code: ErrorCode | ClientErrorCode, message: string, options: KerutaClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KerutaClientError';
    this.code = code;
    this.status = options.status;
    this.retryAfter = options.retryAfter;
    this.timestamp = options.timestamp;
  }
}

export function isKerutaClientError(error: unknown): error is KerutaClientError {
  return error instanceof KerutaClientError;
}

/**
 * Whether asking again may get a different answer: the protocol's table decides for its codes;
 * a network failure may pass, and so may an answer that is not keruta's when it is a 5xx (a proxy
 * while the server restarts).
 */
export function isRetryableClientError(error: KerutaClientError): boolean {
  if (error.code === 'NETWORK_ERROR') return true;
  if (error.code === 'UNEXPECTED_RESPONSE') return error.status !== undefined && error.status >= 500;
  return !isFinalError(error.code);
}

/** The KerutaClientError a non-2xx response stands for, read from its `{code, message, timestamp}` body. */
export async function errorFromResponse(response: Response, what: string): Promise<KerutaClientError> {
  const status = response.status;
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  const extra = { status, ...(retryAfter === undefined ? {} : { retryAfter }) };
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return new KerutaClientError('NETWORK_ERROR', `${what}: HTTP ${status}, and the body could not be read`, { ...extra, cause: error });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields = readErrorBody(body);
  if (fields !== undefined && isErrorCode(fields.code)) {
    const { code, message, timestamp } = fields;
    return new KerutaClientError(code, message, { ...extra, ...(timestamp === undefined ? {} : { timestamp }) });
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return new KerutaClientError(
    'UNEXPECTED_RESPONSE',
    `${what}: HTTP ${status} ${response.statusText} without a keruta error body${snippet === '' ? '' : `: ${snippet}`}`,
    extra,
  );
}
