// keruta-api's settings: flags over KERUTA_* variables over a config file over defaults,
// read and validated once at start-up into one frozen object. Nothing else reads process.env.
// What each setting is lives in settings.ts; here they are read, checked together, and shaped.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { deepFreeze, defaultValues, describeProblem, flagHelpLines, resolveSettings, type SettingsValues } from '@keruta/settings';
import { SETTINGS, type AuthMode } from './settings.js';

export type { AuthMode } from './settings.js';

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

type ServerSettings = SettingsValues<typeof SETTINGS>;

export const USAGE = `Usage: keruta-api [options]
       keruta-api keys create --scopes logs:read,logs:write [--tasks 'build-*'] [--name N] [--file F]
       keruta-api keys list [--file F]
       keruta-api keys revoke ID [--file F]

Options:
${flagHelpLines(SETTINGS, 19).join('\n')}
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
  const command = parseCommandLine(argv);
  if (command.help) return { help: true };
  const file = command.configFile === undefined ? {} : { file: { tree: readConfigFile(command.configFile), name: command.configFile } };
  const { values, problems } = resolveSettings(SETTINGS, { flags: command.flags, env, ...file });
  if (problems.length > 0) throw new ConfigError(problems.map(describeProblem).join('\n'));
  checkTogether(values);
  return { help: false, config: serverConfig(values, readFilesNamed(values)) };
}

/** Builds a config for tests and embedders from explicit values over the defaults. */
export function defineConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return Object.freeze({ ...serverConfig(defaultValues(SETTINGS), {}), ...overrides });
}

const FLAG_SETTINGS = Object.entries(SETTINGS).flatMap(([name, setting]) =>
  'flag' in setting ? [{ name, option: setting.flag.slice('--'.length) }] : [],
);

function parseCommandLine(argv: readonly string[]): { help: boolean; configFile: string | undefined; flags: Record<string, string> } {
  const options: ParseArgsConfig['options'] = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } };
  for (const { option } of FLAG_SETTINGS) options[option] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }) as { values: Record<string, string | boolean | undefined> });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const flags: Record<string, string> = {};
  for (const { name, option } of FLAG_SETTINGS) {
    const value = values[option];
    if (typeof value === 'string') flags[name] = value;
  }
  return { help: values.help === true, configFile: values.config as string | undefined, flags };
}

/** The refusals that concern several settings at once. */
function checkTogether(values: ServerSettings): void {
  if (values.authMode === 'none' && !isLoopback(values.host)) {
    throw new ConfigError(
      `refusing to listen on ${values.host} without authentication: logs would be open to the network. ` +
        'Listen on 127.0.0.1 (KERUTA_API_HOST) or choose KERUTA_AUTH_MODE=jwt or apikey.',
    );
  }
  if (values.authMode === 'jwt' && values.jwtSecret === undefined && values.jwtPublicKeyFile === undefined && values.jwksUrl === undefined) {
    throw new ConfigError('KERUTA_AUTH_MODE=jwt: needs KERUTA_JWT_SECRET (HS256), KERUTA_JWT_PUBLIC_KEY_FILE or KERUTA_JWKS_URL (RS256/ES256)');
  }
  if (values.authMode === 'jwt' && values.jwtSecret !== undefined && values.jwtSecret.length < 16) {
    throw new ConfigError('KERUTA_JWT_SECRET: must be at least 16 characters');
  }
  if (values.authMode === 'apikey' && values.apiKeysFile === undefined) {
    throw new ConfigError('KERUTA_AUTH_MODE=apikey: needs KERUTA_API_KEYS_FILE (create keys with: keruta-api keys create --scopes logs:read)');
  }
  // Node checks both on one timer and answers 408 to whichever passes first; headers later than
  // the whole request would never be waited for.
  if (values.headersTimeoutMs > values.requestTimeoutMs) {
    throw new ConfigError(`KERUTA_HEADERS_TIMEOUT_MS (${values.headersTimeoutMs}): must not exceed KERUTA_REQUEST_TIMEOUT_MS (${values.requestTimeoutMs})`);
  }
  if ((values.tlsCert === undefined) !== (values.tlsKey === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key: give both (KERUTA_TLS_CERT, KERUTA_TLS_KEY) or neither');
  }
}

interface NamedFiles {
  readonly jwtPublicKey?: string;
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** The contents of the files the settings name: a JWT public key, a TLS certificate and key. */
function readFilesNamed(values: ServerSettings): NamedFiles {
  const { jwtPublicKeyFile, tlsCert, tlsKey } = values;
  return {
    ...optional('jwtPublicKey', jwtPublicKeyFile === undefined ? undefined : readSetting(jwtPublicKeyFile, 'KERUTA_JWT_PUBLIC_KEY_FILE')),
    ...optional('tls', tlsCert === undefined || tlsKey === undefined ? undefined : { cert: readSetting(tlsCert, '--tls-cert'), key: readSetting(tlsKey, '--tls-key') }),
  };
}

/** The settings in the shape the server's parts take them, frozen. */
function serverConfig(values: ServerSettings, files: NamedFiles): ServerConfig {
  const auth = {
    mode: values.authMode,
    ...optional('jwtSecret', values.jwtSecret),
    ...optional('jwtPublicKey', files.jwtPublicKey),
    ...optional('jwksUrl', values.jwksUrl),
    ...optional('jwtIssuer', values.jwtIssuer),
    ...optional('jwtAudience', values.jwtAudience),
    ...optional('apiKeysFile', values.apiKeysFile),
  };
  return deepFreeze({
    host: values.host,
    port: values.port,
    databaseUrl: values.databaseUrl,
    busUrl: values.busUrl,
    auth,
    security: {
      metricsPublic: values.metricsPublic,
      wsAuthTimeoutMs: values.wsAuthTimeoutMs,
      allowedOrigins: values.allowedOrigins,
      rateLimitPerMinute: values.rateLimitPerMinute,
      wsMessagesPerSecond: values.wsMessagesPerSecond,
      maxConnectionsPerCredential: values.maxConnectionsPerCredential,
      allowedHosts: values.allowedHosts,
      headersTimeoutMs: values.headersTimeoutMs,
      requestTimeoutMs: values.requestTimeoutMs,
      keepAliveTimeoutMs: values.keepAliveTimeoutMs,
      maxUnauthenticatedPerAddress: values.maxUnauthenticatedPerAddress,
      maxUnauthenticatedConnections: values.maxUnauthenticatedConnections,
      authFailureLimit: values.authFailureLimit,
      authFailureWindowMs: values.authFailureWindowMs,
    },
    ...optional('tls', files.tls),
    ...optional('retentionDays', values.retentionDays),
    maxMessageLength: values.maxMessageLength,
    maxBodyBytes: values.maxBodyBytes,
    heartbeatIntervalMs: values.heartbeatIntervalMs,
    subscriberHighWaterBytes: values.subscriberHighWaterBytes,
    slowConsumerTimeoutMs: values.slowConsumerTimeoutMs,
    subscriberBufferBytes: values.subscriberBufferBytes,
    logLevel: values.logLevel,
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
