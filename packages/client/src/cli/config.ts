// The CLI's settings: KERUTA_* variables, NO_COLOR and the flags that override them, read and
// checked here only; commands get a typed, frozen config.
import { InvalidArgumentError } from 'commander';
import {
  LOG_LEVELS,
  LOG_SOURCES,
  MAX_TAIL,
  TASK_ID_PATTERN,
  isLogLevel,
  isLogSource,
  levelRank,
  type LogLevel,
  type LogSource,
} from '@keruta/protocol';
import { apiUrlFromServer, DEFAULT_SERVER_URL, webSocketUrlFromApiUrl, webSocketUrlFromServer } from '../urls.js';

/** A setting or argument that cannot be used: exit status 2, like a bad flag. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ConnectionSettings {
  /** keruta-api's /api/v1. */
  readonly apiUrl: string;
  /** The WebSocket endpoint without the task id. */
  readonly webSocketUrl: string;
  readonly token: string | undefined;
  readonly apiKey: string | undefined;
}

export interface ConnectionFlags {
  server?: string;
  token?: string;
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function checkUrl(value: string, schemes: readonly string[], source: string, example: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source}: must be a URL such as ${example}, got ${JSON.stringify(value)}`);
  }
  if (!schemes.includes(url.protocol)) {
    throw new UsageError(`${source}: must start with ${schemes.map((s) => `${s}//`).join(' or ')}, got ${JSON.stringify(value)}`);
  }
  return value.replace(/\/+$/, '');
}

/**
 * Where the server is and how to authenticate: `--server` (the server's base URL) over
 * KERUTA_API_URL / KERUTA_WEBSOCKET_URL (the latter derived from the former when unset), over
 * http://127.0.0.1:8080; `--token` over KERUTA_AUTH_TOKEN; KERUTA_API_KEY.
 */
export function connectionSettings(flags: ConnectionFlags): ConnectionSettings {
  let apiUrl: string;
  let webSocketUrl: string;
  if (flags.server !== undefined) {
    const server = checkUrl(flags.server, ['http:', 'https:'], '--server', 'http://keruta-api:8080');
    apiUrl = apiUrlFromServer(server);
    webSocketUrl = webSocketUrlFromServer(server);
  } else {
    const fromEnv = env('KERUTA_API_URL');
    apiUrl = fromEnv === undefined ? apiUrlFromServer(DEFAULT_SERVER_URL) : checkUrl(fromEnv, ['http:', 'https:'], 'KERUTA_API_URL', 'http://keruta-api:8080/api/v1');
    const wsFromEnv = env('KERUTA_WEBSOCKET_URL');
    webSocketUrl =
      wsFromEnv === undefined
        ? webSocketUrlFromApiUrl(apiUrl)
        : checkUrl(wsFromEnv, ['ws:', 'wss:'], 'KERUTA_WEBSOCKET_URL', 'ws://keruta-api:8080/ws/tasks');
  }
  if (flags.token !== undefined && flags.token.trim() === '') throw new UsageError('--token: must not be empty');
  return Object.freeze({ apiUrl, webSocketUrl, token: flags.token ?? env('KERUTA_AUTH_TOKEN'), apiKey: env('KERUTA_API_KEY') });
}

export const COLOR_CHOICES = ['auto', 'always', 'never'] as const;
export type ColorChoice = (typeof COLOR_CHOICES)[number];

/**
 * `--color always|never` as asked; `auto` (the default): colours on a terminal unless NO_COLOR
 * is set to a non-empty value (https://no-color.org; a flag given on the command line wins over it).
 */
export function colorEnabled(choice: ColorChoice, stream: { isTTY?: boolean }): boolean {
  if (choice !== 'auto') return choice === 'always';
  const noColor = process.env['NO_COLOR'];
  return stream.isTTY === true && (noColor === undefined || noColor === '');
}

// Argument parsers for commander: each names the flag and what it accepts.

export function parseTaskIdArgument(value: string): string {
  if (!TASK_ID_PATTERN.test(value)) {
    throw new InvalidArgumentError('a task id is 1-128 characters of A-Z, a-z, 0-9, ".", "_" or "-".');
  }
  return value;
}

function wholeNumber(value: string, max: number): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > max) throw new InvalidArgumentError(`must be a whole number from 0 to ${max}.`);
  return n;
}

export const parseSeqArgument = (value: string): number => wholeNumber(value, Number.MAX_SAFE_INTEGER);

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
/** RFC 3339: a date, a time to the second (a fraction optional) and Z or an offset; no bare dates or local times. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * `--since 10m`, `--until 1h30m` (that long before now, as kubectl's `--since`) or an RFC 3339
 * time (`2026-12-04T18:00:00Z`, `…+09:00`), as epoch milliseconds.
 */
export function parseTimeArgument(value: string, now = Date.now()): number {
  const text = value.trim();
  if (DURATION.test(text)) {
    let ms = 0;
    for (const [, amount, unit] of text.matchAll(DURATION_PART)) ms += Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    return Math.round(now - ms);
  }
  const at = RFC3339.test(text) ? Date.parse(text.replace(' ', 'T')) : Number.NaN;
  if (Number.isNaN(at)) {
    const seqHint = /^\d+$/.test(text) ? ' (a seq goes to --after-seq)' : '';
    throw new InvalidArgumentError(
      `must be a duration before now (10m, 1h30m, 45s, 2d; units ms, s, m, h, d) or an RFC 3339 time (2026-12-04T18:00:00Z, 2026-12-05T03:00:00+09:00); got ${JSON.stringify(value)}${seqHint}.`,
    );
  }
  return at;
}
export const parseTailArgument = (value: string): number => wholeNumber(value, MAX_TAIL);

function parts(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** `--source stdout,stderr` or `--source stdout --source stderr`. */
export function parseSourcesArgument(value: string, previous: LogSource[] | undefined): LogSource[] {
  const chosen = [...(previous ?? [])];
  const given = parts(value);
  if (given.length === 0) throw new InvalidArgumentError(`must name one or more of ${LOG_SOURCES.join(', ')}.`);
  for (const part of given) {
    const source = part.toLowerCase();
    if (!isLogSource(source)) throw new InvalidArgumentError(`must be one or more of ${LOG_SOURCES.join(', ')}; got ${JSON.stringify(part)}.`);
    if (!chosen.includes(source)) chosen.push(source);
  }
  return chosen;
}

/** `--level WARN,ERROR`, repeated, or `--level WARN+` for WARN and every level above it. */
export function parseLevelsArgument(value: string, previous: LogLevel[] | undefined): LogLevel[] {
  const chosen = [...(previous ?? [])];
  const given = parts(value);
  if (given.length === 0) throw new InvalidArgumentError(`must name one or more of ${LOG_LEVELS.join(', ')}.`);
  for (const part of given) {
    const andAbove = part.endsWith('+');
    const level = (andAbove ? part.slice(0, -1) : part).toUpperCase();
    if (!isLogLevel(level)) {
      throw new InvalidArgumentError(`must be one or more of ${LOG_LEVELS.join(', ')} (LEVEL+ for that level and above); got ${JSON.stringify(part)}.`);
    }
    const levels = andAbove ? LOG_LEVELS.filter((l) => levelRank(l) >= levelRank(level)) : [level];
    for (const l of levels) if (!chosen.includes(l)) chosen.push(l);
  }
  return chosen;
}
