// keruta-agent's settings, read in this one place: command-line flags over KERUTA_* variables over
// a YAML/JSON config file over defaults, validated into one frozen object. Nothing else reads
// process.env. A bad value is an error that names the setting and where it came from.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_MAX_MESSAGE_LENGTH, LOG_LEVELS, MAX_BATCH_ENTRIES, type LogLevel } from '@keruta/protocol';
import {
  boolean,
  deepFreeze,
  describeProblemWithOrigin,
  duration,
  integer,
  oneOf,
  patterns,
  resolveSettings,
  text,
  unknownKeys,
  url,
  type ReadmeTables,
  type Setting,
  type SettingsValues,
} from '@keruta/settings';
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

const levelAliases: Record<string, LogLevel> = { WARNING: 'WARN', TRACE: 'DEBUG', FATAL: 'ERROR' };

/** Every setting: its config-file key, variable, flag, what it accepts, its default and what it means. */
export const SETTINGS = {
  enabled: {
    key: 'logStreaming.enabled',
    env: 'KERUTA_LOG_STREAMING_ENABLED',
    flag: '--disable-log-streaming',
    ...boolean,
    default: true,
    doc: 'Stream the script\'s lines to keruta-api. `--disable-log-streaming` turns it off: nothing is sent, no connection is made.',
  },
  bufferSize: {
    key: 'logStreaming.bufferSize',
    env: 'KERUTA_LOG_BUFFER_SIZE',
    ...integer(1, 1_000_000),
    must: 'be a whole number of entries, at least 1',
    default: 10_000,
    doc: 'Most entries held in memory for delivery at once (also the largest batch when a backlog is drained, capped at 10,000). Every line goes to the spool file first, so a full buffer costs disk, never the script\'s time.',
  },
  batchSize: {
    key: 'logStreaming.batchSize',
    env: 'KERUTA_LOG_BATCH_SIZE',
    ...integer(1, MAX_BATCH_ENTRIES),
    default: 1000,
    doc: 'Entries per batch while the agent keeps up with the script. When lines pile up (a burst, a slow or absent server) batches grow up to `bufferSize` entries so the backlog drains.',
  },
  flushInterval: {
    key: 'logStreaming.flushInterval',
    env: 'KERUTA_LOG_FLUSH_INTERVAL',
    ...duration(1),
    must: 'be a duration such as 1s, 500ms or 1 (seconds), above 0',
    default: '1s',
    doc: 'The longest a line waits before it is sent. Lines go out as soon as the connection is idle; if the server has not acknowledged the batch in flight after this long, the next batch is sent without waiting for it.',
  },
  maxRetries: {
    key: 'logStreaming.maxRetries',
    env: 'KERUTA_LOG_MAX_RETRIES',
    ...integer(0, 1000),
    must: 'be a whole number, 0 or more',
    default: 3,
    doc: 'Times a batch the server failed to store (DATABASE_ERROR, …) is sent again on the same connection before the agent reconnects.',
  },
  retryInterval: {
    key: 'logStreaming.retryInterval',
    env: 'KERUTA_LOG_RETRY_INTERVAL',
    ...duration(0),
    must: 'be a duration such as 5s',
    default: '5s',
    doc: 'Wait before a failed batch is sent again (RATE_LIMIT_EXCEEDED waits the server\'s Retry-After instead).',
  },
  maxMessageLength: {
    key: 'logStreaming.maxMessageLength',
    env: 'KERUTA_LOG_MAX_MESSAGE_LENGTH',
    ...integer(16, 1_048_576),
    must: 'be a whole number of characters from 16 to 1048576',
    default: DEFAULT_MAX_MESSAGE_LENGTH,
    doc: 'Longest line sent, in characters; longer lines are cut and marked `metadata.truncated: true`.',
  },
  spoolDir: {
    key: 'logStreaming.spoolDir',
    env: 'KERUTA_LOG_SPOOL_DIR',
    flag: '--spool-dir',
    metavar: 'DIR',
    ...text,
    must: 'be a directory path',
    shownDefault: '`$XDG_STATE_HOME/keruta/spool` or `~/.local/state/keruta/spool`',
    doc: 'Where lines are kept until the server acknowledges them; survives the agent being killed. `keruta-agent flush` sends what is left.',
  },
  exitTimeout: {
    key: 'logStreaming.exitTimeout',
    env: 'KERUTA_LOG_EXIT_TIMEOUT',
    flag: '--exit-timeout',
    metavar: 'D',
    ...duration(0),
    must: 'be a duration such as 10s, or 0 to not wait',
    default: '10s',
    doc: 'After the script exits, how long the agent waits for undelivered lines to be acknowledged before it exits and says how many lines it kept and where.',
  },
  websocketUrl: {
    key: 'websocket.url',
    env: 'KERUTA_WEBSOCKET_URL',
    ...url(['ws:', 'wss:']),
    default: 'ws://127.0.0.1:8080/ws/tasks',
    doc: 'Base of the agent\'s WebSocket; the agent connects to `<url>/<taskId>`.',
  },
  websocketTimeout: {
    key: 'websocket.timeout',
    env: 'KERUTA_WEBSOCKET_TIMEOUT',
    ...duration(1),
    must: 'be a duration such as 10s, above 0',
    default: '10s',
    doc: 'Longest wait for the WebSocket to open and for the server to acknowledge a batch; after that the connection is dropped and made again.',
  },
  reconnectInterval: {
    key: 'websocket.reconnectInterval',
    env: 'KERUTA_WEBSOCKET_RECONNECT_INTERVAL',
    ...duration(1),
    must: 'be a duration such as 5s, above 0',
    default: '5s',
    doc: 'First wait before reconnecting; each further attempt doubles it (at most 8×), with random jitter of up to half.',
  },
  maxReconnectAttempts: {
    key: 'websocket.maxReconnectAttempts',
    env: 'KERUTA_WEBSOCKET_MAX_RECONNECT_ATTEMPTS',
    ...integer(0, 1_000_000),
    must: 'be a whole number, 0 or more (0: no limit)',
    default: 10,
    doc: 'Failed attempts in a row after which the agent stops trying during the run (lines stay in the spool; it tries again while it waits at exit). 0: no limit.',
  },
  apiUrl: {
    key: 'api.url',
    env: 'KERUTA_API_URL',
    ...url(['http:', 'https:']),
    must: 'be an http:// or https:// URL',
    default: 'http://127.0.0.1:8080/api/v1',
    doc: 'keruta-api\'s REST base, used when the WebSocket cannot be opened: `POST <url>/tasks/<taskId>/logs`.',
  },
  apiTimeout: {
    key: 'api.timeout',
    env: 'KERUTA_API_TIMEOUT',
    ...duration(1),
    must: 'be a duration such as 30s, above 0',
    default: '30s',
    doc: 'Longest wait for one REST request.',
  },
  apiRetryCount: {
    key: 'api.retryCount',
    env: 'KERUTA_API_RETRY_COUNT',
    ...integer(0, 1000),
    must: 'be a whole number, 0 or more',
    default: 3,
    doc: 'Times a REST request that failed on the network or with a 5xx is repeated before the server counts as unreachable.',
  },
  apiRetryInterval: {
    key: 'api.retryInterval',
    env: 'KERUTA_API_RETRY_INTERVAL',
    ...duration(0),
    must: 'be a duration such as 1s',
    default: '1s',
    doc: 'Wait between REST retries.',
  },
  authType: {
    key: 'auth.type',
    env: 'KERUTA_AUTH_TYPE',
    ...oneOf<AuthType>(AUTH_TYPES, { BEARER: 'jwt', TOKEN: 'jwt', API_KEY: 'apikey' }),
    default: 'auto',
    doc: '`auto` sends whichever credentials are set; `jwt` only the token, `apikey` only the key, `none` neither.',
  },
  authToken: {
    key: 'auth.token',
    env: 'KERUTA_AUTH_TOKEN',
    ...text,
    must: 'be a non-empty token',
    secret: true,
    doc: 'Sent as `Authorization: Bearer <token>`. Never printed.',
  },
  apiKey: {
    key: 'auth.apiKey',
    env: 'KERUTA_API_KEY',
    ...text,
    must: 'be a non-empty key',
    secret: true,
    doc: 'Sent as `X-API-Key: <key>`. Never printed.',
  },
  logLevel: {
    key: 'logging.level',
    env: 'KERUTA_LOG_LEVEL',
    flag: '--log-level',
    metavar: 'L',
    ...oneOf(LOG_LEVELS, levelAliases),
    default: 'INFO',
    doc: 'Lowest level streamed: `DEBUG` streams everything, `WARN` only WARN and ERROR lines. Lines below it are still printed locally and counted: the run\'s `filtered` line and `exited`\'s `metadata.belowLevel` say how many were not sent. The agent\'s own events are always sent.',
  },
  logFormat: {
    key: 'logging.format',
    env: 'KERUTA_LOG_FORMAT',
    ...oneOf(LOG_FORMATS),
    default: 'text',
    doc: 'Format of the agent\'s own local messages: `text` lines or `json` objects.',
  },
  logOutput: {
    key: 'logging.output',
    env: 'KERUTA_LOG_OUTPUT',
    ...text,
    must: 'be stderr, stdout or a file path',
    default: 'stderr',
    doc: 'Where the agent\'s own local messages go. The script\'s output is always printed unchanged on stdout/stderr.',
  },
  excludePatterns: {
    key: 'filters.excludePatterns',
    ...patterns,
    default: [],
    doc: 'Regular expressions whose matches are replaced by `[REDACTED]` before a line leaves the machine.',
  },
  verbose: {
    key: 'verbose',
    env: 'KERUTA_VERBOSE',
    flag: '--verbose',
    ...boolean,
    default: false,
    doc: 'Also print the agent\'s own messages (connected, reconnecting, delivered …) locally.',
  },
} as const satisfies Record<string, Setting<unknown>>;

/** The agent README's table, by block id (scripts/settings-tables.mjs writes it). */
export const README_TABLES: ReadmeTables = { 'keruta-agent': { settings: SETTINGS } };

export type SettingName = keyof typeof SETTINGS;
type AgentSettings = SettingsValues<typeof SETTINGS>;

function defaultSpoolDir(env: Readonly<Record<string, string | undefined>>): string {
  const stateHome = env.XDG_STATE_HOME;
  const base = stateHome !== undefined && isAbsolute(stateHome) ? stateHome : join(env.HOME ?? homedir(), '.local', 'state');
  return join(base, 'keruta', 'spool');
}

interface ConfigFile {
  readonly path: string;
  readonly tree: unknown;
}

async function readConfigFile(path: string): Promise<Result<ConfigFile>> {
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
    return ok({ path, tree });
  } catch (error) {
    return fail(agentError('CONFIG_INVALID', `config file ${path} is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`));
  }
}

/** Reads flags, environment and config file into one frozen AgentConfig. */
export async function loadConfig(input: LoadConfigInput = {}): Promise<Result<LoadedConfig>> {
  const env = input.env ?? process.env;
  const flags = input.flags ?? {};
  const cwd = input.cwd ?? process.cwd();

  const configPath = flags.config ?? env.KERUTA_CONFIG;
  let file: ConfigFile | undefined;
  if (configPath !== undefined && configPath !== '') {
    const read = await readConfigFile(resolve(cwd, configPath));
    if (!read.ok) return read;
    file = read.value;
  }
  const warnings = file === undefined ? [] : unknownKeys(SETTINGS, file.tree).map((key) => `config file ${file.path}: unknown setting "${key}" ignored`);

  const { values, problems } = resolveSettings(SETTINGS, { flags, env, ...(file === undefined ? {} : { file: { tree: file.tree, name: file.path } }) });
  const messages = problems.map(describeProblemWithOrigin);
  const headers = authHeaders(values, messages);
  if (messages.length > 0) return fail(agentError('CONFIG_INVALID', messages.join('\n')));
  const config = agentConfig(values, { env, cwd, headers, configFile: file?.path });
  return ok({ config: deepFreeze(config), warnings });
}

interface Surroundings {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly headers: Record<string, string>;
  readonly configFile: string | undefined;
}

/** The settings in the shape the agent's parts take them, paths made absolute. */
function agentConfig(values: AgentSettings, { env, cwd, headers, configFile }: Surroundings): AgentConfig {
  const output = values.logOutput;
  return {
    logStreaming: {
      enabled: values.enabled,
      bufferSize: values.bufferSize,
      batchSize: values.batchSize,
      flushIntervalMs: values.flushInterval,
      maxRetries: values.maxRetries,
      retryIntervalMs: values.retryInterval,
      maxMessageLength: values.maxMessageLength,
      spoolDir: values.spoolDir === undefined ? defaultSpoolDir(env) : resolve(cwd, values.spoolDir),
      exitTimeoutMs: values.exitTimeout,
    },
    websocket: {
      url: values.websocketUrl,
      timeoutMs: values.websocketTimeout,
      reconnectIntervalMs: values.reconnectInterval,
      maxReconnectAttempts: values.maxReconnectAttempts,
    },
    api: { url: values.apiUrl, timeoutMs: values.apiTimeout, retryCount: values.apiRetryCount, retryIntervalMs: values.apiRetryInterval },
    auth: { type: values.authType, headers },
    logging: {
      level: values.logLevel,
      format: values.logFormat,
      output: output === 'stderr' || output === 'stdout' ? output : resolve(cwd, output),
    },
    filters: { excludePatterns: values.excludePatterns },
    verbose: values.verbose,
    configFile,
    environment: Object.freeze({ ...env }),
  };
}

function authHeaders({ authType: type, authToken: token, apiKey }: AgentSettings, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  if (type === 'jwt' && token === undefined) problems.push('KERUTA_AUTH_TYPE=jwt needs a token: set KERUTA_AUTH_TOKEN (or auth.token)');
  if (type === 'apikey' && apiKey === undefined) problems.push('KERUTA_AUTH_TYPE=apikey needs a key: set KERUTA_API_KEY (or auth.apiKey)');
  if ((type === 'auto' || type === 'jwt') && token !== undefined) headers.authorization = `Bearer ${token}`;
  if ((type === 'auto' || type === 'apikey') && apiKey !== undefined) headers['x-api-key'] = apiKey;
  return headers;
}
