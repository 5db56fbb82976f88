// The one error-code table of PROTOCOL.md §2, shared by server, agent and client.

export const ERROR_CODES = {
  // retryable: whether sending the same request again may succeed without anyone changing the
  // configuration, the request or the server. The one answer to "is this error final?" for the agent and the client.
  TASK_NOT_FOUND: { status: 404, closeCode: 4404, retryable: false },
  INVALID_TASK_ID: { status: 400, closeCode: 4400, retryable: false },
  INVALID_LOG_FORMAT: { status: 400, closeCode: 4400, retryable: false },
  INVALID_MESSAGE_FORMAT: { status: 400, closeCode: 4400, retryable: false },
  // Retryable in smaller pieces: the agent halves its batch and sends again (a single entry too large is INVALID_LOG_FORMAT).
  MESSAGE_TOO_LARGE: { status: 413, closeCode: 1009, retryable: true },
  UNAUTHORIZED: { status: 401, closeCode: 4401, retryable: false },
  FORBIDDEN: { status: 403, closeCode: 4403, retryable: false },
  // After the Retry-After the answer gives.
  RATE_LIMIT_EXCEEDED: { status: 429, closeCode: 4429, retryable: true },
  // Never an HTTP answer: a WebSocket subscriber that fell behind. 4008 asks the client to resume with `since`.
  SLOW_CONSUMER: { status: 503, closeCode: 4008, retryable: true },
  DATABASE_ERROR: { status: 500, closeCode: 1011, retryable: true },
  WEBSOCKET_CONNECTION_FAILED: { status: 503, closeCode: 1013, retryable: true },
} as const satisfies Record<string, { status: number; closeCode: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * Whether a failure named `code` is final: a code of the table that sending again cannot fix.
 * Anything else (a network failure, a timeout, a proxy's answer without a keruta body) is worth another try.
 */
export function isFinalError(code: string): boolean {
  return isErrorCode(code) && !ERROR_CODES[code].retryable;
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** The body of every error, REST and WebSocket alike. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  timestamp: string;
}

export interface KerutaErrorOptions {
  /** Seconds, for RATE_LIMIT_EXCEEDED. */
  retryAfter?: number;
  cause?: unknown;
}

/** An error a user may see: always a code from the table and a message that names the culprit. */
export class KerutaError extends Error {
  readonly code: ErrorCode;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options: KerutaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KerutaError';
    this.code = code;
    this.retryAfter = options.retryAfter;
  }

  get status(): number {
    return httpStatusOf(this.code);
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, timestamp: new Date().toISOString() };
  }
}

export function isKerutaError(error: unknown): error is KerutaError {
  return error instanceof KerutaError;
}
