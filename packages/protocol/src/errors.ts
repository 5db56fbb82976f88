// The one error-code table of PROTOCOL.md §2, shared by server, agent and client.

export const ERROR_CODES = {
  TASK_NOT_FOUND: { status: 404, closeCode: 4404 },
  INVALID_TASK_ID: { status: 400, closeCode: 4400 },
  INVALID_LOG_FORMAT: { status: 400, closeCode: 4400 },
  INVALID_MESSAGE_FORMAT: { status: 400, closeCode: 4400 },
  MESSAGE_TOO_LARGE: { status: 413, closeCode: 1009 },
  UNAUTHORIZED: { status: 401, closeCode: 4401 },
  FORBIDDEN: { status: 403, closeCode: 4403 },
  RATE_LIMIT_EXCEEDED: { status: 429, closeCode: 4429 },
  // Never an HTTP answer: a WebSocket subscriber that fell behind. 4008 asks the client to resume with `since`.
  SLOW_CONSUMER: { status: 503, closeCode: 4008 },
  DATABASE_ERROR: { status: 500, closeCode: 1011 },
  WEBSOCKET_CONNECTION_FAILED: { status: 503, closeCode: 1013 },
} as const satisfies Record<string, { status: number; closeCode: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
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
