// Validators compiled once from the schemas, with errors that name the field at fault.
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType, type ValueError } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { KerutaError, type ErrorCode } from './errors.js';
import { ClientMessageSchemas, MAX_BATCH_ENTRIES, type ClientMessage } from './messages.js';
import {
  DEFAULT_MAX_MESSAGE_LENGTH,
  LogRequestSchema,
  MAX_METADATA_BYTES,
  MAX_METADATA_DEPTH,
  TASK_ID_PATTERN,
  type LogRequest,
} from './log-entry.js';

export interface Validator<T> {
  check(value: unknown): value is T;
  /** The first problem as "field: what is wrong", or undefined when the value fits. */
  explain(value: unknown): string | undefined;
  /** The first problem as typebox reports it, or undefined when the value fits. */
  firstError(value: unknown): ValueError | undefined;
}

/**
 * Compiles on first use, not at import: a program that validates only some shapes (the agent
 * validates none of the server's) does not pay for the others.
 */
export function createValidator<S extends TSchema>(schema: S): Validator<Static<S>> {
  let compiled: ((value: unknown) => boolean) | undefined;
  const check = (value: unknown): boolean => {
    if (compiled === undefined) {
      try {
        const checker = TypeCompiler.Compile(schema);
        compiled = (v) => checker.Check(v);
      } catch {
        // A page under a strict CSP forbids generated code; the interpreter gives the same answers.
        compiled = (v) => Value.Check(schema, v);
      }
    }
    return compiled(value);
  };
  const firstError = (value: unknown): ValueError | undefined => (check(value) ? undefined : Value.Errors(schema, value).First());
  return {
    check: (value: unknown): value is Static<S> => check(value),
    explain(value) {
      if (check(value)) return undefined;
      const first = firstError(value);
      return first === undefined ? 'invalid value' : describeError(first);
    },
    firstError,
  };
}

function fieldName(path: string): string {
  if (path === '') return 'body';
  return path
    .slice(1)
    .split('/')
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

function describeError(error: ValueError): string {
  const field = fieldName(error.path);
  if (error.value === undefined) return `${field}: is required`;
  const choices = literalChoices(error.schema);
  if (choices !== undefined) return `${field}: must be one of ${choices.join(', ')}`;
  return `${field}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
}

function literalChoices(schema: TSchema): string[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!Array.isArray(anyOf)) return undefined;
  const values = anyOf.map((s) => (s as { const?: unknown }).const);
  return values.every((v) => typeof v === 'string') ? (values as string[]) : undefined;
}

export function assertTaskId(taskId: unknown): string {
  if (typeof taskId !== 'string' || !TASK_ID_PATTERN.test(taskId)) {
    throw new KerutaError('INVALID_TASK_ID', 'taskId must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
  }
  return taskId;
}

/** ISO 8601 with a date and time, e.g. 2024-01-01T00:00:00Z; returns epoch milliseconds. */
export function parseTimestamp(value: string, field: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const ms = iso.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new KerutaError('INVALID_LOG_FORMAT', `${field}: must be an ISO 8601 date-time such as 2024-01-01T00:00:00Z`);
  }
  return ms;
}

/**
 * True when `value` nests objects or arrays deeper than `maxDepth` (a plain value is depth 0, `{}`
 * depth 1). A loop with its own stack, not recursion: the value may be 10,000 levels deep.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(next.value) ? next.value : Object.values(next.value)) pending.push({ value: child, depth });
  }
  return false;
}

const logRequestValidator = createValidator(LogRequestSchema);

export interface NormalizeOptions {
  maxMessageLength?: number;
  /** Used when the request carries no timestamp. */
  now?: number;
  /** Prefix for field names in errors, e.g. "entries[3]". */
  field?: string;
}

/** A LogRequest as stored: timestamp normalised to ISO UTC with milliseconds, long messages cut. */
export interface NormalizedLogRequest extends LogRequest {
  timestamp: string;
  /** Epoch milliseconds of `timestamp`. */
  timeMs: number;
  metadata: Record<string, unknown>;
}

/** The form every stored timestamp has; an agent's timestamps usually arrive in it already. */
const CANONICAL_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function parseLogRequest(value: unknown, options: NormalizeOptions = {}): NormalizedLogRequest {
  const problem = logRequestValidator.explain(value);
  const prefix = (): string => (options.field === undefined ? '' : `${options.field}.`);
  if (problem !== undefined) {
    // A whole entry that is not an object is named by its place, e.g. "entries[3]", not "body".
    const named = options.field !== undefined && problem.startsWith('body:') ? `${options.field}${problem.slice(4)}` : `${prefix()}${problem}`;
    throw new KerutaError('INVALID_LOG_FORMAT', named);
  }
  const request = value as LogRequest;
  if ((request.runId === undefined) !== (request.runSeq === undefined)) {
    throw new KerutaError('INVALID_LOG_FORMAT', `${prefix()}runId and runSeq: must be given together`);
  }
  let timestamp: string;
  let timeMs: number;
  if (request.timestamp === undefined) {
    timeMs = options.now ?? Date.now();
    timestamp = new Date(timeMs).toISOString();
  } else if (CANONICAL_TIMESTAMP.test(request.timestamp) && Number.isFinite((timeMs = Date.parse(request.timestamp)))) {
    timestamp = request.timestamp;
  } else {
    timeMs = parseTimestamp(request.timestamp, `${prefix()}timestamp`);
    timestamp = new Date(timeMs).toISOString();
  }
  let metadata = request.metadata ?? {};
  if (request.metadata !== undefined && nestsDeeperThan(request.metadata, MAX_METADATA_DEPTH)) {
    throw new KerutaError('INVALID_LOG_FORMAT', `${prefix()}metadata: must nest at most ${MAX_METADATA_DEPTH} levels deep`);
  }
  if (request.metadata !== undefined && JSON.stringify(request.metadata).length > MAX_METADATA_BYTES) {
    throw new KerutaError('INVALID_LOG_FORMAT', `${prefix()}metadata: must be at most ${MAX_METADATA_BYTES} bytes of JSON`);
  }
  const max = options.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
  let message = request.message;
  if (message.length > max) {
    message = message.slice(0, max);
    // The length before any cut: the agent's, when it cut the line first.
    metadata = { originalLength: request.message.length, ...metadata, truncated: true };
  }
  // Built field by field: unknown properties a client sent are not carried any further.
  const normalized: NormalizedLogRequest = { source: request.source, level: request.level, message, metadata, timestamp, timeMs };
  if (request.lineNumber !== undefined) normalized.lineNumber = request.lineNumber;
  if (request.runId !== undefined) normalized.runId = request.runId;
  if (request.runSeq !== undefined) normalized.runSeq = request.runSeq;
  return normalized;
}

const clientMessageValidators = Object.fromEntries(
  Object.entries(ClientMessageSchemas).map(([type, schema]) => [type, createValidator(schema)]),
) as { [K in keyof typeof ClientMessageSchemas]: Validator<Static<(typeof ClientMessageSchemas)[K]>> };

/** A WebSocket frame from a client: JSON of a known type, fitting its schema. */
export function parseClientMessage(text: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KerutaError('INVALID_MESSAGE_FORMAT', 'message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KerutaError('INVALID_MESSAGE_FORMAT', 'message must be a JSON object with a "type"');
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(clientMessageValidators, type)) {
    const known = Object.keys(ClientMessageSchemas).join(', ');
    throw new KerutaError('INVALID_MESSAGE_FORMAT', `type: must be one of ${known}`);
  }
  const validator = clientMessageValidators[type as keyof typeof ClientMessageSchemas];
  const error = validator.firstError(value);
  if (error !== undefined) {
    // A batch over the limit is a size problem, answered as POST answers it (413 there).
    if (error.type === ValueErrorType.ArrayMaxItems && error.path === '/entries') {
      const count = Array.isArray(error.value) ? error.value.length : 0;
      throw new KerutaError('MESSAGE_TOO_LARGE', `entries: at most ${MAX_BATCH_ENTRIES} entries in one batch, got ${count}`);
    }
    const code: ErrorCode = type === 'log' ? 'INVALID_LOG_FORMAT' : 'INVALID_MESSAGE_FORMAT';
    throw new KerutaError(code, describeError(error));
  }
  return value as ClientMessage;
}
