// The CLI's settings: KERUTA_* variables, NO_COLOR and the flags that override them, declared
// once (CLI_SETTINGS, also the README's table), read and checked here only; commands get a
// typed, frozen config.
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
import { describeProblem, oneOf, resolveSettings, text, url, type ReadmeTables, type Setting, type SettingsTable, type SettingsValues } from '@keruta/settings';
import { apiUrlFromServer, DEFAULT_SERVER_URL, webSocketUrlFromApiUrl, webSocketUrlFromServer } from '../urls.js';

/** A setting or argument that cannot be used: exit status 2, like a bad flag. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const COLOR_CHOICES = ['auto', 'always', 'never'] as const;
export type ColorChoice = (typeof COLOR_CHOICES)[number];

/** Every setting of the `keruta` command: flag, variable, default, check and meaning. */
export const CLI_SETTINGS = {
  server: {
    flag: '--server',
    metavar: 'URL',
    ...url(['http:', 'https:'], 'http://keruta-api:8080'),
    help: "the server's base URL, e.g. http://keruta-api:8080 (default: KERUTA_API_URL / KERUTA_WEBSOCKET_URL, else http://127.0.0.1:8080)",
    doc: "the server's base URL (`http://host:port`, optionally with a path prefix); replaces both `KERUTA_API_URL` and `KERUTA_WEBSOCKET_URL`",
  },
  apiUrl: {
    env: 'KERUTA_API_URL',
    ...url(['http:', 'https:'], 'http://keruta-api:8080/api/v1'),
    default: apiUrlFromServer(DEFAULT_SERVER_URL),
    doc: 'the REST base',
  },
  webSocketUrl: {
    env: 'KERUTA_WEBSOCKET_URL',
    ...url(['ws:', 'wss:'], 'ws://keruta-api:8080/ws/tasks'),
    shownDefault: 'derived from `KERUTA_API_URL`: `ws://…/ws/tasks`',
    doc: 'the WebSocket endpoint (used by `-f`)',
  },
  token: {
    flag: '--token',
    metavar: 'T',
    env: 'KERUTA_AUTH_TOKEN',
    parse: (raw: unknown) => (typeof raw === 'string' && raw.trim() !== '' ? raw : undefined),
    must: 'not be empty',
    secret: true,
    help: 'a JWT for the server (default: KERUTA_AUTH_TOKEN)',
    doc: 'a JWT, sent as `Authorization: Bearer …` on REST and on the WebSocket',
  },
  apiKey: {
    env: 'KERUTA_API_KEY',
    ...text,
    secret: true,
    doc: 'sent as `X-API-Key` on REST and on the WebSocket',
  },
  color: {
    flag: '--color',
    metavar: 'auto|always|never',
    ...oneOf(COLOR_CHOICES),
    default: 'auto',
    help: 'colours: auto (on a terminal, unless NO_COLOR is set), always or never',
    doc: '`auto`: colours by level when stdout is a terminal and `NO_COLOR` is not set; `always` also when piped, whatever `NO_COLOR` says; `never` not at all',
  },
  noColor: {
    env: 'NO_COLOR',
    // Set to anything but the empty string (https://no-color.org); the empty one counts as unset.
    parse: (raw: unknown) => (typeof raw === 'string' ? true : undefined),
    must: 'be set',
    doc: 'any non-empty value turns colours off where `--color` is `auto`',
  },
} as const satisfies Record<string, Setting<unknown>>;

/** The client README's table, by block id (scripts/settings-tables.mjs writes it). */
export const README_TABLES: ReadmeTables = { keruta: { settings: CLI_SETTINGS, unset: '—' } };

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

type Environment = Readonly<Record<string, string | undefined>>;

/** The settings of `table` from the flags and environment; the first bad one is a UsageError. */
function settingsFrom<S extends SettingsTable>(table: S, flags: ConnectionFlags, env: Environment): SettingsValues<S> {
  // A variable of blanks is unset too, and a value is used without the blanks around it.
  const trimmed = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value?.trim()]));
  const { values, problems } = resolveSettings(table, { flags: { ...flags }, env: trimmed });
  const [problem] = problems;
  if (problem !== undefined) throw new UsageError(describeProblem(problem));
  return values;
}

/**
 * Where the server is and how to authenticate: `--server` (the server's base URL) over
 * KERUTA_API_URL / KERUTA_WEBSOCKET_URL (the latter derived from the former when unset), over
 * http://127.0.0.1:8080; `--token` over KERUTA_AUTH_TOKEN; KERUTA_API_KEY.
 */
export function connectionSettings(flags: ConnectionFlags, env: Environment = process.env): ConnectionSettings {
  const { server, apiUrl, webSocketUrl, token, apiKey } = CLI_SETTINGS;
  // --server replaces both variables: they are not even read then.
  const urls = flags.server === undefined ? urlsFromVariables(settingsFrom({ apiUrl, webSocketUrl }, flags, env)) : urlsFromServer(settingsFrom({ server }, flags, env).server);
  return Object.freeze({ ...urls, ...settingsFrom({ token, apiKey }, flags, env) });
}

function urlsFromVariables({ apiUrl, webSocketUrl }: { apiUrl: string; webSocketUrl: string | undefined }): Pick<ConnectionSettings, 'apiUrl' | 'webSocketUrl'> {
  return { apiUrl, webSocketUrl: webSocketUrl ?? webSocketUrlFromApiUrl(apiUrl) };
}

function urlsFromServer(server = DEFAULT_SERVER_URL): Pick<ConnectionSettings, 'apiUrl' | 'webSocketUrl'> {
  return { apiUrl: apiUrlFromServer(server), webSocketUrl: webSocketUrlFromServer(server) };
}

/**
 * `--color always|never` as asked; `auto` (the default): colours on a terminal unless NO_COLOR
 * is set to a non-empty value (https://no-color.org; a flag given on the command line wins over it).
 */
export function colorEnabled(choice: ColorChoice, stream: { isTTY?: boolean }, env: Environment = process.env): boolean {
  if (choice !== 'auto') return choice === 'always';
  const { noColor } = resolveSettings({ noColor: CLI_SETTINGS.noColor }, { env }).values;
  return stream.isTTY === true && noColor !== true;
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
