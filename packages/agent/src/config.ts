// keruta-agent's settings, read in this one place: command-line flags over KERUTA_* variables over
// a YAML/JSON config file over defaults, validated into one frozen object. Nothing else reads
// process.env. A bad value is an error that names the setting and where it came from.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_MAX_MESSAGE_LENGTH, LOG_LEVELS, MAX_BATCH_ENTRIES, type LogLevel } from '@keruta/protocol';
import { formatDuration, parseDuration } from './duration.js';
import { agentError, fail, ok, type Result } from './errors.js';

export const AUTH_TYPES = ['auto', 'none', 'jwt', 'apikey'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface AgentConfig {
  readonly logStreaming: {
    readonly enabled: boolean;
    /** Most entries held in memory for delivery (in flight to the server) at once. */
    readonly bufferSize: number;
    /** Entries per batch while the agent keeps up; a backlog is sent in batches of up to bufferSize. */
    readonly batchSize: number;
    readonly flushIntervalMs: number;
    readonly maxRetries: number;
    readonly retryIntervalMs: number;
    readonly maxMessageLength: number;
    readonly spoolDir: string;
    readonly exitTimeoutMs: number;
  };
  readonly websocket: {
    readonly url: string;
    readonly timeoutMs: number;
    readonly reconnectIntervalMs: number;
    /** 0: keep trying until the agent exits. */
    readonly maxReconnectAttempts: number;
  };
  readonly api: {
    readonly url: string;
    readonly timeoutMs: number;
    readonly retryCount: number;
    readonly retryIntervalMs: number;
  };
  readonly auth: {
    readonly type: AuthType;
    /** The request headers that carry the credentials; never printed. */
    readonly headers: Readonly<Record<string, string>>;
  };
  readonly logging: {
    /** Lines below this level are not streamed (they are still printed locally). */
    readonly level: LogLevel;
    readonly format: LogFormat;
    /** "stderr", "stdout" or a file path, for the agent's own messages. */
    readonly output: string;
  };
  readonly filters: { readonly excludePatterns: readonly string[] };
  readonly verbose: boolean;
  /** The configuration file that was read, if any. */
  readonly configFile: string | undefined;
  /** The environment the script runs with (the agent's own, passed through). */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** Raw values from the command line, by setting name; cli.ts fills in what the user typed. */
export type FlagValues = Partial<Record<SettingName, string | boolean>> & { config?: string };

export interface LoadConfigInput {
  flags?: FlagValues;
  env?: Readonly<Record<string, string | undefined>>;
  /** Working directory for relative paths; process.cwd() by default. */
  cwd?: string;
}

export interface LoadedConfig {
  readonly config: AgentConfig;
  /** Problems that do not stop the agent, e.g. an unknown key in the config file. */
  readonly warnings: readonly string[];
}

interface Setting<T> {
  /** Path in the config file, e.g. "logStreaming.bufferSize". */
  readonly key: string;
  readonly env?: string;
  /** The flag as the user types it, e.g. "--log-level". */
  readonly flag?: string;
  readonly expected: string;
  readonly parse: (raw: unknown) => T | undefined;
  readonly secret?: boolean;
  readonly doc: string;
}

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (raw: unknown): number | undefined => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };

const duration =
  (minMs: number) =>
  (raw: unknown): number | undefined => {
    const ms = parseDuration(raw);
    return ms !== undefined && ms >= minMs ? ms : undefined;
  };

const boolean = (raw: unknown): boolean | undefined => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw !== 'string') return undefined;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  return undefined;
};

const oneOf =
  <T extends string>(choices: readonly T[], aliases: Record<string, T> = {}) =>
  (raw: unknown): T | undefined => {
    if (typeof raw !== 'string') return undefined;
    const wanted = raw.trim();
    const alias = aliases[wanted.toUpperCase()] ?? aliases[wanted.toLowerCase()];
    if (alias !== undefined) return alias;
    return choices.find((c) => c.toLowerCase() === wanted.toLowerCase());
  };

const url =
  (protocols: readonly string[]) =>
  (raw: unknown): string | undefined => {
    if (typeof raw !== 'string') return undefined;
    try {
      const parsed = new URL(raw.trim());
      return protocols.includes(parsed.protocol) ? raw.trim().replace(/\/+$/, '') : undefined;
    } catch {
      // Not a URL at all: the caller reports it with the setting's name.
      return undefined;
    }
  };

const text = (raw: unknown): string | undefined => (typeof raw === 'string' && raw.length > 0 ? raw : undefined);

const patterns = (raw: unknown): readonly string[] | undefined => {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) return undefined;
  for (const pattern of list) {
    try {
      new RegExp(pattern, 'g');
    } catch {
      // An invalid pattern is reported as a bad value of filters.excludePatterns.
      return undefined;
    }
  }
  return Object.freeze([...list]);
};

const levelAliases: Record<string, LogLevel> = { WARNING: 'WARN', TRACE: 'DEBUG', FATAL: 'ERROR' };

/** Every setting: its config-file key, variable, flag, what it accepts, and what it means. */
export const SETTINGS = {
  enabled: {
    key: 'logStreaming.enabled',
    env: 'KERUTA_LOG_STREAMING_ENABLED',
    flag: '--disable-log-streaming',
    expected: 'true or false',
    parse: boolean,
    doc: 'Stream the script\'s lines to keruta-api. `--disable-log-streaming` turns it off: nothing is sent, no connection is made.',
  },
  bufferSize: {
    key: 'logStreaming.bufferSize',
    env: 'KERUTA_LOG_BUFFER_SIZE',
    expected: 'a whole number of entries, at least 1',
    parse: integer(1, 1_000_000),
    doc: 'Most entries held in memory for delivery at once (also the largest batch when a backlog is drained, capped at 10,000). Every line goes to the spool file first, so a full buffer costs disk, never the script\'s time.',
  },
  batchSize: {
    key: 'logStreaming.batchSize',
    env: 'KERUTA_LOG_BATCH_SIZE',
    expected: `a whole number from 1 to ${MAX_BATCH_ENTRIES}`,
    parse: integer(1, MAX_BATCH_ENTRIES),
    doc: 'Entries per batch while the agent keeps up with the script. When lines pile up (a burst, a slow or absent server) batches grow up to `bufferSize` entries so the backlog drains.',
  },
  flushInterval: {
    key: 'logStreaming.flushInterval',
    env: 'KERUTA_LOG_FLUSH_INTERVAL',
    expected: 'a duration such as 1s, 500ms or 1 (seconds), above 0',
    parse: duration(1),
    doc: 'The longest a line waits before it is sent. Lines go out as soon as the connection is idle; if the server has not acknowledged the batch in flight after this long, the next batch is sent without waiting for it.',
  },
  maxRetries: {
    key: 'logStreaming.maxRetries',
    env: 'KERUTA_LOG_MAX_RETRIES',
    expected: 'a whole number, 0 or more',
    parse: integer(0, 1000),
    doc: 'Times a batch the server failed to store (DATABASE_ERROR, …) is sent again on the same connection before the agent reconnects.',
  },
  retryInterval: {
    key: 'logStreaming.retryInterval',
    env: 'KERUTA_LOG_RETRY_INTERVAL',
    expected: 'a duration such as 5s',
    parse: duration(0),
    doc: 'Wait before a failed batch is sent again (RATE_LIMIT_EXCEEDED waits the server\'s Retry-After instead).',
  },
  maxMessageLength: {
    key: 'logStreaming.maxMessageLength',
    env: 'KERUTA_LOG_MAX_MESSAGE_LENGTH',
    expected: 'a whole number of characters from 16 to 1048576',
    parse: integer(16, 1_048_576),
    doc: 'Longest line sent, in characters; longer lines are cut and marked `metadata.truncated: true`.',
  },
  spoolDir: {
    key: 'logStreaming.spoolDir',
    env: 'KERUTA_LOG_SPOOL_DIR',
    flag: '--spool-dir',
    expected: 'a directory path',
    parse: text,
    doc: 'Where lines are kept until the server acknowledges them; survives the agent being killed. `keruta-agent flush` sends what is left.',
  },
  exitTimeout: {
    key: 'logStreaming.exitTimeout',
    env: 'KERUTA_LOG_EXIT_TIMEOUT',
    flag: '--exit-timeout',
    expected: 'a duration such as 10s, or 0 to not wait',
    parse: duration(0),
    doc: 'After the script exits, how long the agent waits for undelivered lines to be acknowledged before it exits and says how many lines it kept and where.',
  },
  websocketUrl: {
    key: 'websocket.url',
    env: 'KERUTA_WEBSOCKET_URL',
    expected: 'a ws:// or wss:// URL',
    parse: url(['ws:', 'wss:']),
    doc: 'Base of the agent\'s WebSocket; the agent connects to `<url>/<taskId>`.',
  },
  websocketTimeout: {
    key: 'websocket.timeout',
    env: 'KERUTA_WEBSOCKET_TIMEOUT',
    expected: 'a duration such as 10s, above 0',
    parse: duration(1),
    doc: 'Longest wait for the WebSocket to open and for the server to acknowledge a batch; after that the connection is dropped and made again.',
  },
  reconnectInterval: {
    key: 'websocket.reconnectInterval',
    env: 'KERUTA_WEBSOCKET_RECONNECT_INTERVAL',
    expected: 'a duration such as 5s, above 0',
    parse: duration(1),
    doc: 'First wait before reconnecting; each further attempt doubles it (at most 8×), with random jitter of up to half.',
  },
  maxReconnectAttempts: {
    key: 'websocket.maxReconnectAttempts',
    env: 'KERUTA_WEBSOCKET_MAX_RECONNECT_ATTEMPTS',
    expected: 'a whole number, 0 or more (0: no limit)',
    parse: integer(0, 1_000_000),
    doc: 'Failed attempts in a row after which the agent stops trying during the run (lines stay in the spool; it tries again while it waits at exit). 0: no limit.',
  },
  apiUrl: {
    key: 'api.url',
    env: 'KERUTA_API_URL',
    expected: 'an http:// or https:// URL',
    parse: url(['http:', 'https:']),
    doc: 'keruta-api\'s REST base, used when the WebSocket cannot be opened: `POST <url>/tasks/<taskId>/logs`.',
  },
  apiTimeout: {
    key: 'api.timeout',
    env: 'KERUTA_API_TIMEOUT',
    expected: 'a duration such as 30s, above 0',
    parse: duration(1),
    doc: 'Longest wait for one REST request.',
  },
  apiRetryCount: {
    key: 'api.retryCount',
    env: 'KERUTA_API_RETRY_COUNT',
    expected: 'a whole number, 0 or more',
    parse: integer(0, 1000),
    doc: 'Times a REST request that failed on the network or with a 5xx is repeated before the server counts as unreachable.',
  },
  apiRetryInterval: {
    key: 'api.retryInterval',
    env: 'KERUTA_API_RETRY_INTERVAL',
    expected: 'a duration such as 1s',
    parse: duration(0),
    doc: 'Wait between REST retries.',
  },
  authType: {
    key: 'auth.type',
    env: 'KERUTA_AUTH_TYPE',
    expected: `one of ${AUTH_TYPES.join(', ')}`,
    parse: oneOf<AuthType>(AUTH_TYPES, { BEARER: 'jwt', TOKEN: 'jwt', API_KEY: 'apikey' }),
    doc: '`auto` sends whichever credentials are set; `jwt` only the token, `apikey` only the key, `none` neither.',
  },
  authToken: {
    key: 'auth.token',
    env: 'KERUTA_AUTH_TOKEN',
    expected: 'a non-empty token',
    parse: text,
    secret: true,
    doc: 'Sent as `Authorization: Bearer <token>`. Never printed.',
  },
  apiKey: {
    key: 'auth.apiKey',
    env: 'KERUTA_API_KEY',
    expected: 'a non-empty key',
    parse: text,
    secret: true,
    doc: 'Sent as `X-API-Key: <key>`. Never printed.',
  },
  logLevel: {
    key: 'logging.level',
    env: 'KERUTA_LOG_LEVEL',
    flag: '--log-level',
    expected: `one of ${LOG_LEVELS.join(', ')}`,
    parse: oneOf(LOG_LEVELS, levelAliases),
    doc: 'Lowest level streamed: `DEBUG` streams everything, `WARN` only WARN and ERROR lines. Lines below it are still printed locally; the agent\'s own events are always sent.',
  },
  logFormat: {
    key: 'logging.format',
    env: 'KERUTA_LOG_FORMAT',
    expected: `one of ${LOG_FORMATS.join(', ')}`,
    parse: oneOf(LOG_FORMATS),
    doc: 'Format of the agent\'s own local messages: `text` lines or `json` objects.',
  },
  logOutput: {
    key: 'logging.output',
    env: 'KERUTA_LOG_OUTPUT',
    expected: 'stderr, stdout or a file path',
    parse: text,
    doc: 'Where the agent\'s own local messages go. The script\'s output is always printed unchanged on stdout/stderr.',
  },
  excludePatterns: {
    key: 'filters.excludePatterns',
    expected: 'a list of regular expressions',
    parse: patterns,
    doc: 'Regular expressions whose matches are replaced by `[REDACTED]` before a line leaves the machine.',
  },
  verbose: {
    key: 'verbose',
    env: 'KERUTA_VERBOSE',
    flag: '--verbose',
    expected: 'true or false',
    parse: boolean,
    doc: 'Also print the agent\'s own messages (connected, reconnecting, delivered …) locally.',
  },
} as const satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SETTINGS;
type ValueOf<N extends SettingName> = NonNullable<ReturnType<(typeof SETTINGS)[N]['parse']>>;

function defaultSpoolDir(env: Readonly<Record<string, string | undefined>>): string {
  const stateHome = env.XDG_STATE_HOME;
  const base = stateHome !== undefined && isAbsolute(stateHome) ? stateHome : join(env.HOME ?? homedir(), '.local', 'state');
  return join(base, 'keruta', 'spool');
}

const DEFAULTS = {
  enabled: true,
  bufferSize: 10_000,
  batchSize: 1000,
  flushInterval: 1000,
  maxRetries: 3,
  retryInterval: 5000,
  maxMessageLength: DEFAULT_MAX_MESSAGE_LENGTH,
  exitTimeout: 10_000,
  websocketUrl: 'ws://127.0.0.1:8080/ws/tasks',
  websocketTimeout: 10_000,
  reconnectInterval: 5000,
  maxReconnectAttempts: 10,
  apiUrl: 'http://127.0.0.1:8080/api/v1',
  apiTimeout: 30_000,
  apiRetryCount: 3,
  apiRetryInterval: 1000,
  authType: 'auto',
  logLevel: 'INFO',
  logFormat: 'text',
  logOutput: 'stderr',
  excludePatterns: [] as readonly string[],
  verbose: false,
} as const satisfies Partial<{ [N in SettingName]: ValueOf<N> }>;

/** The defaults as the README shows them. */
export function describeDefault(name: SettingName): string {
  if (name === 'spoolDir') return '`$XDG_STATE_HOME/keruta/spool` or `~/.local/state/keruta/spool`';
  if (name === 'authToken' || name === 'apiKey') return '(none)';
  const value = (DEFAULTS as Partial<Record<SettingName, unknown>>)[name];
  const ms = ['flushInterval', 'retryInterval', 'exitTimeout', 'websocketTimeout', 'reconnectInterval', 'apiTimeout', 'apiRetryInterval'];
  if (typeof value === 'number' && ms.includes(name)) return `\`${formatDuration(value)}\``;
  if (Array.isArray(value)) return '(none)';
  return `\`${String(value)}\``;
}

function lookup(tree: unknown, path: string): unknown {
  let node = tree;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function unknownKeys(tree: unknown, known: ReadonlySet<string>, prefix = ''): string[] {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) return [];
  const found: string[] = [];
  for (const [name, value] of Object.entries(tree)) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    if (known.has(path)) continue;
    const isSection = [...known].some((k) => k.startsWith(`${path}.`));
    if (isSection && typeof value === 'object' && value !== null && !Array.isArray(value)) found.push(...unknownKeys(value, known, path));
    else if (value !== null) found.push(path);
  }
  return found;
}

async function readConfigFile(path: string): Promise<Result<unknown>> {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return fail(agentError('CONFIG_INVALID', `cannot read config file ${path}: ${reason}`));
  }
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both kinds of file.
    const { parse } = await import('yaml');
    const tree: unknown = parse(source) ?? {};
    if (typeof tree !== 'object' || Array.isArray(tree)) {
      return fail(agentError('CONFIG_INVALID', `config file ${path}: must be a mapping of sections (logStreaming, websocket, api, logging, filters)`));
    }
    return ok(tree);
  } catch (error) {
    return fail(agentError('CONFIG_INVALID', `config file ${path} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`));
  }
}

/** Reads flags, environment and config file into one frozen AgentConfig. */
export async function loadConfig(input: LoadConfigInput = {}): Promise<Result<LoadedConfig>> {
  const env = input.env ?? process.env;
  const flags = input.flags ?? {};
  const cwd = input.cwd ?? process.cwd();
  const warnings: string[] = [];

  const configPath = flags.config ?? env.KERUTA_CONFIG;
  let tree: unknown = {};
  let configFile: string | undefined;
  if (configPath !== undefined && configPath !== '') {
    configFile = resolve(cwd, configPath);
    const read = await readConfigFile(configFile);
    if (!read.ok) return read;
    tree = read.value;
    const known = new Set(Object.values(SETTINGS).map((s) => s.key));
    for (const key of unknownKeys(tree, known)) warnings.push(`config file ${configFile}: unknown setting "${key}" ignored`);
  }

  const problems: string[] = [];
  const get = <N extends SettingName>(name: N): ValueOf<N> | undefined => {
    const setting: Setting<unknown> = SETTINGS[name];
    const candidates: [unknown, string][] = [];
    const flagValue = flags[name];
    if (flagValue !== undefined) candidates.push([flagValue, `${setting.flag ?? name} (command line)`]);
    if (setting.env !== undefined && env[setting.env] !== undefined && env[setting.env] !== '') {
      candidates.push([env[setting.env], `${setting.env} (environment)`]);
    }
    const fileValue = lookup(tree, setting.key);
    if (fileValue !== undefined && fileValue !== null) candidates.push([fileValue, `${setting.key} in ${configFile ?? 'config file'}`]);
    const first = candidates[0];
    if (first === undefined) return undefined;
    const [raw, source] = first;
    const value = setting.parse(raw);
    if (value === undefined) {
      const shown = setting.secret === true ? '' : ` ${JSON.stringify(raw)}`;
      problems.push(`${source}: invalid value${shown}: must be ${setting.expected}`);
    }
    return value as ValueOf<N> | undefined;
  };
  const pick = <N extends SettingName>(name: N, fallback: ValueOf<N>): ValueOf<N> => get(name) ?? fallback;

  const spoolDirRaw = get('spoolDir');
  const authType = pick('authType', DEFAULTS.authType);
  const token = get('authToken');
  const apiKey = get('apiKey');
  const logOutput = pick('logOutput', DEFAULTS.logOutput);

  const config: AgentConfig = {
    logStreaming: {
      enabled: pick('enabled', DEFAULTS.enabled),
      bufferSize: pick('bufferSize', DEFAULTS.bufferSize),
      batchSize: pick('batchSize', DEFAULTS.batchSize),
      flushIntervalMs: pick('flushInterval', DEFAULTS.flushInterval),
      maxRetries: pick('maxRetries', DEFAULTS.maxRetries),
      retryIntervalMs: pick('retryInterval', DEFAULTS.retryInterval),
      maxMessageLength: pick('maxMessageLength', DEFAULTS.maxMessageLength),
      spoolDir: spoolDirRaw === undefined ? defaultSpoolDir(env) : resolve(cwd, spoolDirRaw),
      exitTimeoutMs: pick('exitTimeout', DEFAULTS.exitTimeout),
    },
    websocket: {
      url: pick('websocketUrl', DEFAULTS.websocketUrl),
      timeoutMs: pick('websocketTimeout', DEFAULTS.websocketTimeout),
      reconnectIntervalMs: pick('reconnectInterval', DEFAULTS.reconnectInterval),
      maxReconnectAttempts: pick('maxReconnectAttempts', DEFAULTS.maxReconnectAttempts),
    },
    api: {
      url: pick('apiUrl', DEFAULTS.apiUrl),
      timeoutMs: pick('apiTimeout', DEFAULTS.apiTimeout),
      retryCount: pick('apiRetryCount', DEFAULTS.apiRetryCount),
      retryIntervalMs: pick('apiRetryInterval', DEFAULTS.apiRetryInterval),
    },
    auth: { type: authType, headers: authHeaders(authType, token, apiKey, problems) },
    logging: {
      level: pick('logLevel', DEFAULTS.logLevel),
      format: pick('logFormat', DEFAULTS.logFormat),
      output: logOutput === 'stderr' || logOutput === 'stdout' ? logOutput : resolve(cwd, logOutput),
    },
    filters: { excludePatterns: pick('excludePatterns', DEFAULTS.excludePatterns) },
    verbose: pick('verbose', DEFAULTS.verbose),
    configFile,
    environment: Object.freeze({ ...env }),
  };
  if (problems.length > 0) return fail(agentError('CONFIG_INVALID', problems.join('\n')));
  return ok({ config: deepFreeze(config), warnings });
}

function authHeaders(type: AuthType, token: string | undefined, apiKey: string | undefined, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  if (type === 'jwt' && token === undefined) problems.push('KERUTA_AUTH_TYPE=jwt needs a token: set KERUTA_AUTH_TOKEN (or auth.token)');
  if (type === 'apikey' && apiKey === undefined) problems.push('KERUTA_AUTH_TYPE=apikey needs a key: set KERUTA_API_KEY (or auth.apiKey)');
  if ((type === 'auto' || type === 'jwt') && token !== undefined) headers.authorization = `Bearer ${token}`;
  if ((type === 'auto' || type === 'apikey') && apiKey !== undefined) headers['x-api-key'] = apiKey;
  return headers;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
