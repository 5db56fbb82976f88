// keruta-api's settings: flags over KERUTA_* variables over a config file over defaults,
// read and validated once at start-up into one frozen object. Nothing else reads process.env.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_MAX_MESSAGE_LENGTH } from '@keruta/protocol';

export const AUTH_MODES = ['none', 'jwt', 'apikey'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly busUrl: string;
  readonly auth: {
    readonly mode: AuthMode;
    readonly jwtSecret?: string;
    /** PEM of an RS256/ES256 public key. */
    readonly jwtPublicKey?: string;
    readonly jwksUrl?: string;
    readonly jwtIssuer?: string;
    readonly jwtAudience?: string;
    readonly apiKeysFile?: string;
  };
  readonly security: {
    /** Serve /metrics without credentials (it holds no log text). */
    readonly metricsPublic: boolean;
    /** How long a WebSocket may stay open without authenticating. */
    readonly wsAuthTimeoutMs: number;
    /**
     * Origins besides the server's own that browsers may use it from: open a WebSocket (with a
     * token in the URL, or at all in auth mode none) and send POST/DELETE without a header credential.
     */
    readonly allowedOrigins: readonly string[];
    /** In auth mode none, Host names served besides loopback ones (DNS rebinding); `name` or `name:port`. */
    readonly allowedHosts: readonly string[];
    /** REST requests per minute per credential (or per IP without one). */
    readonly rateLimitPerMinute: number;
    /** WebSocket messages per second per connection. */
    readonly wsMessagesPerSecond: number;
    readonly maxConnectionsPerCredential: number;
    /** Longest a client may take to send a request's headers. */
    readonly headersTimeoutMs: number;
    /** Longest a client may take to send a whole request, body included. */
    readonly requestTimeoutMs: number;
    /** How long an idle keep-alive connection stays open between requests. */
    readonly keepAliveTimeoutMs: number;
    /** Connections not yet authenticated (no authenticated request or WebSocket auth), per client address. */
    readonly maxUnauthenticatedPerAddress: number;
    /** Connections not yet authenticated, from all addresses together. */
    readonly maxUnauthenticatedConnections: number;
    /** Refused credentials per client address within a window before the address gets RATE_LIMIT_EXCEEDED. */
    readonly authFailureLimit: number;
    readonly authFailureWindowMs: number;
  };
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly retentionDays?: number;
  /** Longest stored message, in characters. */
  readonly maxMessageLength: number;
  /** Largest REST body and WebSocket frame, in bytes. */
  readonly maxBodyBytes: number;
  readonly heartbeatIntervalMs: number;
  /** Bytes a subscriber's socket may hold unsent before its live feed pauses and it reads from the store. */
  readonly subscriberHighWaterBytes: number;
  /** How long a paused subscriber may go without draining before it is closed with SLOW_CONSUMER. */
  readonly slowConsumerTimeoutMs: number;
  /**
   * Bytes all connections together may hold unsent; over it, those holding the most are closed
   * with SLOW_CONSUMER. Well under keruta-api's memory target (200 MB RSS).
   */
  readonly subscriberBufferBytes: number;
  readonly logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  databaseUrl: 'sqlite:./data/keruta.db',
  busUrl: 'memory',
  authMode: 'none' as AuthMode,
  maxMessageLength: DEFAULT_MAX_MESSAGE_LENGTH,
  maxBodyBytes: 16 * 1024 * 1024,
  heartbeatIntervalMs: 30_000,
  subscriberHighWaterBytes: 1024 * 1024,
  slowConsumerTimeoutMs: 10_000,
  subscriberBufferBytes: 64 * 1024 * 1024,
  logLevel: 'info',
  security: {
    metricsPublic: false,
    wsAuthTimeoutMs: 10_000,
    allowedOrigins: [] as string[],
    rateLimitPerMinute: 6000,
    wsMessagesPerSecond: 500,
    maxConnectionsPerCredential: 200,
    allowedHosts: [] as string[],
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    maxUnauthenticatedPerAddress: 512,
    maxUnauthenticatedConnections: 4096,
    authFailureLimit: 100,
    authFailureWindowMs: 60_000,
  },
};

/** Each setting: its config-file key, its variable, and how to read it. */
interface Setting {
  file: string;
  env: string;
  flag?: string;
}
const SETTINGS = {
  host: { file: 'host', env: 'KERUTA_API_HOST', flag: 'host' },
  port: { file: 'port', env: 'KERUTA_API_PORT', flag: 'port' },
  databaseUrl: { file: 'databaseUrl', env: 'KERUTA_DATABASE_URL', flag: 'db' },
  busUrl: { file: 'busUrl', env: 'KERUTA_BUS_URL', flag: 'bus' },
  authMode: { file: 'auth.mode', env: 'KERUTA_AUTH_MODE', flag: 'auth-mode' },
  jwtSecret: { file: 'auth.jwtSecret', env: 'KERUTA_JWT_SECRET' },
  jwtPublicKeyFile: { file: 'auth.jwtPublicKeyFile', env: 'KERUTA_JWT_PUBLIC_KEY_FILE' },
  jwtIssuer: { file: 'auth.jwtIssuer', env: 'KERUTA_JWT_ISSUER' },
  jwtAudience: { file: 'auth.jwtAudience', env: 'KERUTA_JWT_AUDIENCE' },
  metricsPublic: { file: 'metricsPublic', env: 'KERUTA_METRICS_PUBLIC' },
  wsAuthTimeoutMs: { file: 'wsAuthTimeoutMs', env: 'KERUTA_WS_AUTH_TIMEOUT_MS' },
  allowedOrigins: { file: 'allowedOrigins', env: 'KERUTA_ALLOWED_ORIGINS' },
  rateLimitPerMinute: { file: 'rateLimitPerMinute', env: 'KERUTA_RATE_LIMIT_PER_MINUTE' },
  wsMessagesPerSecond: { file: 'wsMessagesPerSecond', env: 'KERUTA_WS_MESSAGES_PER_SECOND' },
  maxConnectionsPerCredential: { file: 'maxConnectionsPerCredential', env: 'KERUTA_MAX_CONNECTIONS_PER_CREDENTIAL' },
  allowedHosts: { file: 'allowedHosts', env: 'KERUTA_ALLOWED_HOSTS' },
  headersTimeoutMs: { file: 'headersTimeoutMs', env: 'KERUTA_HEADERS_TIMEOUT_MS' },
  requestTimeoutMs: { file: 'requestTimeoutMs', env: 'KERUTA_REQUEST_TIMEOUT_MS' },
  keepAliveTimeoutMs: { file: 'keepAliveTimeoutMs', env: 'KERUTA_KEEP_ALIVE_TIMEOUT_MS' },
  maxUnauthenticatedPerAddress: { file: 'maxUnauthenticatedPerAddress', env: 'KERUTA_MAX_UNAUTHENTICATED_PER_ADDRESS' },
  maxUnauthenticatedConnections: { file: 'maxUnauthenticatedConnections', env: 'KERUTA_MAX_UNAUTHENTICATED_CONNECTIONS' },
  authFailureLimit: { file: 'authFailureLimit', env: 'KERUTA_AUTH_FAILURE_LIMIT' },
  authFailureWindowMs: { file: 'authFailureWindowMs', env: 'KERUTA_AUTH_FAILURE_WINDOW_MS' },
  tlsCert: { file: 'tls.cert', env: 'KERUTA_TLS_CERT', flag: 'tls-cert' },
  tlsKey: { file: 'tls.key', env: 'KERUTA_TLS_KEY', flag: 'tls-key' },
  jwksUrl: { file: 'auth.jwksUrl', env: 'KERUTA_JWKS_URL' },
  apiKeysFile: { file: 'auth.apiKeysFile', env: 'KERUTA_API_KEYS_FILE' },
  retentionDays: { file: 'retentionDays', env: 'KERUTA_RETENTION_DAYS' },
  maxMessageLength: { file: 'maxMessageLength', env: 'KERUTA_MAX_MESSAGE_LENGTH' },
  maxBodyBytes: { file: 'maxBodyBytes', env: 'KERUTA_MAX_BODY_BYTES' },
  heartbeatIntervalMs: { file: 'heartbeatIntervalMs', env: 'KERUTA_HEARTBEAT_INTERVAL_MS' },
  subscriberHighWaterBytes: { file: 'subscriberHighWaterBytes', env: 'KERUTA_SUBSCRIBER_HIGH_WATER_BYTES' },
  slowConsumerTimeoutMs: { file: 'slowConsumerTimeoutMs', env: 'KERUTA_SLOW_CONSUMER_TIMEOUT_MS' },
  subscriberBufferBytes: { file: 'subscriberBufferBytes', env: 'KERUTA_SUBSCRIBER_BUFFER_BYTES' },
  logLevel: { file: 'logLevel', env: 'KERUTA_LOG_LEVEL', flag: 'log-level' },
} as const satisfies Record<string, Setting>;
type SettingName = keyof typeof SETTINGS;

export const USAGE = `Usage: keruta-api [options]
       keruta-api keys create --scopes logs:read,logs:write [--tasks 'build-*'] [--name N] [--file F]
       keruta-api keys list [--file F]
       keruta-api keys revoke ID [--file F]

Options:
  --host H         address to listen on (KERUTA_API_HOST, default 127.0.0.1)
  --port P         port to listen on, 0 for any free one (KERUTA_API_PORT, default 8080)
  --db URL         log store: sqlite:PATH or postgres://... (KERUTA_DATABASE_URL, default sqlite:./data/keruta.db)
  --bus URL        live fan-out between instances: memory or redis://... (KERUTA_BUS_URL, default memory)
  --auth-mode M    none | jwt | apikey (KERUTA_AUTH_MODE, default none: loopback only)
  --tls-cert FILE  PEM certificate, with --tls-key, to serve https:// and wss:// (KERUTA_TLS_CERT)
  --tls-key FILE   PEM private key (KERUTA_TLS_KEY)
  --log-level L    the server's own log level: debug, info, warn, error (KERUTA_LOG_LEVEL, default info)
  --config FILE    a YAML or JSON file with the same settings
  -h, --help       show this help
`;

export interface LoadConfigInput {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
}

export type LoadedConfig = { help: true } | { help: false; config: ServerConfig };

/** Reads flags, environment and file into a frozen ServerConfig; throws ConfigError naming the setting. */
export function loadConfig({ argv = [], env = {} }: LoadConfigInput): LoadedConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        db: { type: 'string' },
        bus: { type: 'string' },
        'auth-mode': { type: 'string' },
        'log-level': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (parsed.values.help === true) return { help: true };
  const file = parsed.values.config === undefined ? {} : readConfigFile(parsed.values.config);
  const flags = parsed.values as Record<string, string | undefined>;

  const raw = (name: SettingName): { value: unknown; source: string } | undefined => {
    const setting: Setting = SETTINGS[name];
    if (setting.flag !== undefined && flags[setting.flag] !== undefined) {
      return { value: flags[setting.flag], source: `--${setting.flag}` };
    }
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: setting.env };
    const fromFile = lookup(file, setting.file);
    if (fromFile !== undefined) return { value: fromFile, source: `${setting.file} in ${parsed.values.config}` };
    return undefined;
  };
  const str = (name: SettingName, fallback: string): string => {
    const found = raw(name);
    if (found === undefined) return fallback;
    if (typeof found.value !== 'string' && typeof found.value !== 'number') {
      throw new ConfigError(`${found.source}: must be a string`);
    }
    return String(found.value);
  };
  const optionalStr = (name: SettingName): string | undefined => {
    const value = str(name, '');
    return value === '' ? undefined : value;
  };
  const int = (name: SettingName, fallback: number, min: number, max: number): number => {
    const found = raw(name);
    if (found === undefined) return fallback;
    const value = typeof found.value === 'number' ? found.value : Number(String(found.value).trim());
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${found.source}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(found.value)}`);
    }
    return value;
  };

  const host = str('host', DEFAULTS.host);
  const mode = str('authMode', DEFAULTS.authMode);
  if (!(AUTH_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`${raw('authMode')?.source ?? 'KERUTA_AUTH_MODE'}: must be one of ${AUTH_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  const authMode = mode as AuthMode;
  if (authMode === 'none' && !isLoopback(host)) {
    throw new ConfigError(
      `refusing to listen on ${host} without authentication: logs would be open to the network. ` +
        'Listen on 127.0.0.1 (KERUTA_API_HOST) or choose KERUTA_AUTH_MODE=jwt or apikey.',
    );
  }
  const retention = raw('retentionDays') === undefined ? undefined : int('retentionDays', 0, 1, 36_500);
  const publicKeyFile = optionalStr('jwtPublicKeyFile');
  const auth = {
    mode: authMode,
    ...optional('jwtSecret', optionalStr('jwtSecret')),
    ...optional('jwtPublicKey', publicKeyFile === undefined ? undefined : readSetting(publicKeyFile, 'KERUTA_JWT_PUBLIC_KEY_FILE')),
    ...optional('jwksUrl', optionalStr('jwksUrl')),
    ...optional('jwtIssuer', optionalStr('jwtIssuer')),
    ...optional('jwtAudience', optionalStr('jwtAudience')),
    ...optional('apiKeysFile', optionalStr('apiKeysFile')),
  };
  if (authMode === 'jwt' && auth.jwtSecret === undefined && auth.jwtPublicKey === undefined && auth.jwksUrl === undefined) {
    throw new ConfigError('KERUTA_AUTH_MODE=jwt: needs KERUTA_JWT_SECRET (HS256), KERUTA_JWT_PUBLIC_KEY_FILE or KERUTA_JWKS_URL (RS256/ES256)');
  }
  if (authMode === 'jwt' && auth.jwtSecret !== undefined && auth.jwtSecret.length < 16) {
    throw new ConfigError('KERUTA_JWT_SECRET: must be at least 16 characters');
  }
  if (authMode === 'apikey' && auth.apiKeysFile === undefined) {
    throw new ConfigError('KERUTA_AUTH_MODE=apikey: needs KERUTA_API_KEYS_FILE (create keys with: keruta-api keys create --scopes logs:read)');
  }
  const bool = (name: SettingName, fallback: boolean): boolean => {
    const found = raw(name);
    if (found === undefined) return fallback;
    const text = String(found.value).trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(text)) return true;
    if (['false', '0', 'no', 'off'].includes(text)) return false;
    throw new ConfigError(`${found.source}: must be true or false, got ${JSON.stringify(found.value)}`);
  };
  const list = (name: SettingName): readonly string[] => {
    const found = raw(name);
    return Object.freeze(
      found === undefined
        ? []
        : (Array.isArray(found.value) ? found.value.map(String) : String(found.value).split(',')).map((o) => o.trim()).filter((o) => o !== ''),
    );
  };
  const headersTimeoutMs = int('headersTimeoutMs', DEFAULTS.security.headersTimeoutMs, 100, 3_600_000);
  const requestTimeoutMs = int('requestTimeoutMs', DEFAULTS.security.requestTimeoutMs, 100, 3_600_000);
  // Node checks both on one timer and answers 408 to whichever passes first; headers later than
  // the whole request would never be waited for.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(`KERUTA_HEADERS_TIMEOUT_MS (${headersTimeoutMs}): must not exceed KERUTA_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  const security = {
    metricsPublic: bool('metricsPublic', DEFAULTS.security.metricsPublic),
    wsAuthTimeoutMs: int('wsAuthTimeoutMs', DEFAULTS.security.wsAuthTimeoutMs, 100, 600_000),
    allowedOrigins: list('allowedOrigins'),
    rateLimitPerMinute: int('rateLimitPerMinute', DEFAULTS.security.rateLimitPerMinute, 1, 10_000_000),
    wsMessagesPerSecond: int('wsMessagesPerSecond', DEFAULTS.security.wsMessagesPerSecond, 1, 1_000_000),
    maxConnectionsPerCredential: int('maxConnectionsPerCredential', DEFAULTS.security.maxConnectionsPerCredential, 1, 1_000_000),
    allowedHosts: list('allowedHosts'),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: int('keepAliveTimeoutMs', DEFAULTS.security.keepAliveTimeoutMs, 100, 3_600_000),
    maxUnauthenticatedPerAddress: int('maxUnauthenticatedPerAddress', DEFAULTS.security.maxUnauthenticatedPerAddress, 1, 1_000_000),
    maxUnauthenticatedConnections: int('maxUnauthenticatedConnections', DEFAULTS.security.maxUnauthenticatedConnections, 1, 1_000_000),
    authFailureLimit: int('authFailureLimit', DEFAULTS.security.authFailureLimit, 1, 1_000_000),
    authFailureWindowMs: int('authFailureWindowMs', DEFAULTS.security.authFailureWindowMs, 100, 86_400_000),
  };
  const tlsCert = optionalStr('tlsCert');
  const tlsKey = optionalStr('tlsKey');
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key: give both (KERUTA_TLS_CERT, KERUTA_TLS_KEY) or neither');
  }
  const tls =
    tlsCert === undefined || tlsKey === undefined
      ? undefined
      : Object.freeze({ cert: readSetting(tlsCert, '--tls-cert'), key: readSetting(tlsKey, '--tls-key') });
  const config: ServerConfig = {
    host,
    port: int('port', DEFAULTS.port, 0, 65_535),
    databaseUrl: str('databaseUrl', DEFAULTS.databaseUrl),
    busUrl: str('busUrl', DEFAULTS.busUrl),
    auth: Object.freeze(auth),
    security: Object.freeze(security),
    ...optional('tls', tls),
    ...optional('retentionDays', retention),
    maxMessageLength: int('maxMessageLength', DEFAULTS.maxMessageLength, 1, 1_048_576),
    maxBodyBytes: int('maxBodyBytes', DEFAULTS.maxBodyBytes, 1024, 256 * 1024 * 1024),
    heartbeatIntervalMs: int('heartbeatIntervalMs', DEFAULTS.heartbeatIntervalMs, 100, 3_600_000),
    subscriberHighWaterBytes: int('subscriberHighWaterBytes', DEFAULTS.subscriberHighWaterBytes, 1024, 1024 * 1024 * 1024),
    slowConsumerTimeoutMs: int('slowConsumerTimeoutMs', DEFAULTS.slowConsumerTimeoutMs, 10, 3_600_000),
    subscriberBufferBytes: int('subscriberBufferBytes', DEFAULTS.subscriberBufferBytes, 64 * 1024, 64 * 1024 * 1024 * 1024),
    logLevel: str('logLevel', DEFAULTS.logLevel),
  };
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(config.logLevel)) {
    throw new ConfigError(`log level: must be one of debug, info, warn, error, silent, got ${JSON.stringify(config.logLevel)}`);
  }
  return { help: false, config: Object.freeze(config) };
}

/** Builds a config for tests and embedders from explicit values over the defaults. */
export function defineConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return Object.freeze({
    host: DEFAULTS.host,
    port: DEFAULTS.port,
    databaseUrl: DEFAULTS.databaseUrl,
    busUrl: DEFAULTS.busUrl,
    auth: { mode: DEFAULTS.authMode },
    security: DEFAULTS.security,
    maxMessageLength: DEFAULTS.maxMessageLength,
    maxBodyBytes: DEFAULTS.maxBodyBytes,
    heartbeatIntervalMs: DEFAULTS.heartbeatIntervalMs,
    subscriberHighWaterBytes: DEFAULTS.subscriberHighWaterBytes,
    slowConsumerTimeoutMs: DEFAULTS.slowConsumerTimeoutMs,
    subscriberBufferBytes: DEFAULTS.subscriberBufferBytes,
    logLevel: DEFAULTS.logLevel,
    ...overrides,
  });
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function readSetting(path: string, name: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name}: ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`--config ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`--config ${path}: is not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`--config ${path}: must hold a mapping of settings`);
  return value as Record<string, unknown>;
}

function lookup(object: Record<string, unknown>, dotted: string): unknown {
  let current: unknown = object;
  for (const key of dotted.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
