// Every keruta-api setting, declared once: flag, variable, config-file key, what it accepts, its
// default and what it means. config.ts reads them into a ServerConfig; the root README's two
// tables ("Settings of keruta-api", "Authentication") and --help are made from these.
import { DEFAULT_MAX_MESSAGE_LENGTH } from '@keruta/protocol';
import { boolean, commaList, integer, oneOf, text, type ReadmeTables, type Setting } from '@keruta/settings';

export const AUTH_MODES = ['none', 'jwt', 'apikey'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const UP_TO_AN_HOUR = integer(100, 3_600_000);
const COUNT = integer(1, 1_000_000);

/** Where it listens, what it stores in, its limits: the README's "Settings of keruta-api". */
export const GENERAL_SETTINGS = {
  host: {
    flag: '--host',
    metavar: 'H',
    env: 'KERUTA_API_HOST',
    key: 'host',
    ...text,
    default: '127.0.0.1',
    help: 'address to listen on',
    doc: 'address to listen on; with auth mode `none` it must be a loopback address (`127.x.x.x`, `::1`, `localhost`), else the server refuses to start',
  },
  port: {
    flag: '--port',
    metavar: 'P',
    env: 'KERUTA_API_PORT',
    key: 'port',
    ...integer(0, 65_535),
    default: 8080,
    help: 'port to listen on, 0 for any free one',
    doc: 'port to listen on; `0` picks a free one',
  },
  databaseUrl: {
    flag: '--db',
    metavar: 'URL',
    env: 'KERUTA_DATABASE_URL',
    key: 'databaseUrl',
    ...text,
    default: 'sqlite:./data/keruta.db',
    help: 'log store: sqlite:PATH or postgres://...',
    doc: 'the log store: `sqlite:PATH` (folder created if missing) or `postgres://user:password@host:port/db`',
  },
  busUrl: {
    flag: '--bus',
    metavar: 'URL',
    env: 'KERUTA_BUS_URL',
    key: 'busUrl',
    ...text,
    default: 'memory',
    help: 'live fan-out between instances: memory or redis://...',
    doc: 'how live lines reach subscribers: `memory` (one server process) or `redis://[user:password@]host:port[?channelPrefix=P]` (several instances, see [Scaling out](#scaling-out))',
  },
  authMode: {
    flag: '--auth-mode',
    metavar: 'M',
    env: 'KERUTA_AUTH_MODE',
    key: 'auth.mode',
    ...oneOf(AUTH_MODES),
    default: 'none',
    help: 'none | jwt | apikey; none only on loopback',
    doc: '`none`: no credentials asked, allowed only on a loopback address (a `Authorization: Bearer …` header is accepted and ignored); `jwt` or `apikey`: see [Authentication](#authentication)',
  },
  tlsCert: {
    flag: '--tls-cert',
    metavar: 'FILE',
    env: 'KERUTA_TLS_CERT',
    key: 'tls.cert',
    ...text,
    help: 'PEM certificate, with --tls-key, to serve https:// and wss://',
    doc: 'PEM certificate; with `--tls-key` the server speaks `https://` and `wss://` itself',
  },
  tlsKey: {
    flag: '--tls-key',
    metavar: 'FILE',
    env: 'KERUTA_TLS_KEY',
    key: 'tls.key',
    ...text,
    help: 'PEM private key',
    doc: 'PEM private key for `--tls-cert`',
  },
  logLevel: {
    flag: '--log-level',
    metavar: 'L',
    env: 'KERUTA_LOG_LEVEL',
    key: 'logLevel',
    ...oneOf(LOG_LEVELS),
    default: 'info',
    help: "the server's own log level: debug, info, warn, error",
    doc: "the server's own JSON log lines on stderr: `trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`",
  },
  retentionDays: {
    env: 'KERUTA_RETENTION_DAYS',
    key: 'retentionDays',
    ...integer(1, 36_500),
    shownDefault: 'unset (keep everything)',
    doc: '1–36500: entries older than this many days are deleted at start-up and then every hour',
  },
  maxMessageLength: {
    env: 'KERUTA_MAX_MESSAGE_LENGTH',
    key: 'maxMessageLength',
    ...integer(1, 1_048_576),
    default: DEFAULT_MAX_MESSAGE_LENGTH,
    doc: 'longest stored message, in characters; a longer one is cut and marked `metadata.truncated: true`',
  },
  maxBodyBytes: {
    env: 'KERUTA_MAX_BODY_BYTES',
    key: 'maxBodyBytes',
    ...integer(1024, 256 * 1024 * 1024),
    default: 16 * 1024 * 1024,
    shownDefault: '`16777216` (16 MiB)',
    doc: 'largest REST body or WebSocket frame; a larger one gets `MESSAGE_TOO_LARGE`',
  },
  heartbeatIntervalMs: {
    env: 'KERUTA_HEARTBEAT_INTERVAL_MS',
    key: 'heartbeatIntervalMs',
    ...UP_TO_AN_HOUR,
    default: 30_000,
    doc: 'how often the server sends `{"type":"ping"}` to WebSocket clients (and drops connections that stopped answering)',
  },
  subscriberHighWaterBytes: {
    env: 'KERUTA_SUBSCRIBER_HIGH_WATER_BYTES',
    key: 'subscriberHighWaterBytes',
    ...integer(1024, 1024 * 1024 * 1024),
    default: 1024 * 1024,
    shownDefault: '`1048576` (1 MiB)',
    doc: "unsent bytes a subscriber's socket may hold before its live feed pauses and it catches up from the store instead",
  },
  slowConsumerTimeoutMs: {
    env: 'KERUTA_SLOW_CONSUMER_TIMEOUT_MS',
    key: 'slowConsumerTimeoutMs',
    ...integer(10, 3_600_000),
    default: 10_000,
    doc: 'how long a paused subscriber may go without draining before it is closed with `SLOW_CONSUMER`',
  },
  allowedHosts: {
    env: 'KERUTA_ALLOWED_HOSTS',
    key: 'allowedHosts',
    ...commaList,
    default: [],
    doc: 'with auth mode `none`, comma list of `Host` names served besides `127.0.0.1`, `localhost` and `[::1]` (any port); `name` allows any port, `name:port` one. Any other `Host` gets `403 FORBIDDEN` (DNS rebinding)',
  },
  headersTimeoutMs: {
    env: 'KERUTA_HEADERS_TIMEOUT_MS',
    key: 'headersTimeoutMs',
    ...UP_TO_AN_HOUR,
    default: 10_000,
    doc: "longest a client may take to send a request's headers; then `408` and the connection is closed",
  },
  requestTimeoutMs: {
    env: 'KERUTA_REQUEST_TIMEOUT_MS',
    key: 'requestTimeoutMs',
    ...UP_TO_AN_HOUR,
    default: 30_000,
    doc: 'longest a client may take to send a whole request, body included (not less than the headers timeout); then `408` and closed',
  },
  keepAliveTimeoutMs: {
    env: 'KERUTA_KEEP_ALIVE_TIMEOUT_MS',
    key: 'keepAliveTimeoutMs',
    ...UP_TO_AN_HOUR,
    default: 5000,
    doc: 'how long an idle keep-alive connection stays open between requests',
  },
  maxUnauthenticatedPerAddress: {
    env: 'KERUTA_MAX_UNAUTHENTICATED_PER_ADDRESS',
    key: 'maxUnauthenticatedPerAddress',
    ...COUNT,
    default: 512,
    doc: 'connections from one client address that have not yet completed an authenticated request or WebSocket auth; over it the oldest of them is closed',
  },
  maxUnauthenticatedConnections: {
    env: 'KERUTA_MAX_UNAUTHENTICATED_CONNECTIONS',
    key: 'maxUnauthenticatedConnections',
    ...COUNT,
    default: 4096,
    doc: 'the same, from all addresses together',
  },
  subscriberBufferBytes: {
    env: 'KERUTA_SUBSCRIBER_BUFFER_BYTES',
    key: 'subscriberBufferBytes',
    ...integer(64 * 1024, 64 * 1024 * 1024 * 1024),
    default: 64 * 1024 * 1024,
    shownDefault: '`67108864` (64 MiB)',
    doc: "unsent bytes all WebSocket connections together may hold (queued in the server and in their sockets' buffers); over it, the connections holding the most are closed with `SLOW_CONSUMER` first (they resume with `since`), so that a crowd of subscribers that stopped reading cannot grow the server's memory. Frames wait in the server once a connection has 256 KiB that its peer has not confirmed by answering a WebSocket protocol ping, however much the kernel's socket buffers would still take; they count here once that ping is 2 s unanswered",
  },
} as const satisfies Record<string, Setting<unknown>>;

/** Who may do what, and how often: the README's "Authentication". */
export const AUTH_SETTINGS = {
  jwtSecret: {
    env: 'KERUTA_JWT_SECRET',
    key: 'auth.jwtSecret',
    ...text,
    secret: true,
    doc: 'HS256 secret (16 characters at least) for `jwt` mode',
  },
  jwtPublicKeyFile: {
    env: 'KERUTA_JWT_PUBLIC_KEY_FILE',
    key: 'auth.jwtPublicKeyFile',
    ...text,
    doc: 'a PEM public key for RS256/ES256 tokens',
  },
  jwksUrl: {
    env: 'KERUTA_JWKS_URL',
    key: 'auth.jwksUrl',
    ...text,
    doc: 'a JWKS endpoint for RS256/ES256 tokens (fetched, cached, refreshed)',
  },
  jwtIssuer: {
    env: 'KERUTA_JWT_ISSUER',
    key: 'auth.jwtIssuer',
    ...text,
    doc: 'the `iss` a token must have, checked when set; `exp` and `nbf` are always checked (30 s clock skew)',
  },
  jwtAudience: {
    env: 'KERUTA_JWT_AUDIENCE',
    key: 'auth.jwtAudience',
    ...text,
    doc: 'the `aud` a token must have, checked when set',
  },
  apiKeysFile: {
    env: 'KERUTA_API_KEYS_FILE',
    key: 'auth.apiKeysFile',
    ...text,
    doc: 'the API keys of `apikey` mode, stored as SHA-256 hashes; re-read when it changes (looked at every 250 ms), and then open WebSockets are checked again',
  },
  metricsPublic: {
    env: 'KERUTA_METRICS_PUBLIC',
    key: 'metricsPublic',
    ...boolean,
    default: false,
    doc: '`true` serves `/metrics` without credentials (it holds no log text); `false` asks for `logs:read`',
  },
  wsAuthTimeoutMs: {
    env: 'KERUTA_WS_AUTH_TIMEOUT_MS',
    key: 'wsAuthTimeoutMs',
    ...integer(100, 600_000),
    default: 10_000,
    doc: 'how long a WebSocket may stay open before authenticating',
  },
  allowedOrigins: {
    env: 'KERUTA_ALLOWED_ORIGINS',
    key: 'allowedOrigins',
    ...commaList,
    default: [],
    doc: "comma list of page origins (`https://ci.example.com`; `null` for a `file://` page) besides the server's own and this machine's (`http(s)://localhost`, `127.0.0.1`, `[::1]`, any port) that may open a WebSocket with `?token=` — or at all in mode `none` — and send POST/DELETE without a credential header",
  },
  rateLimitPerMinute: {
    env: 'KERUTA_RATE_LIMIT_PER_MINUTE',
    key: 'rateLimitPerMinute',
    ...integer(1, 10_000_000),
    default: 6000,
    doc: 'REST requests per minute per credential on routes that check one, else per client address (always per address in mode `none`, whatever `Authorization` header is sent); over it: `429 RATE_LIMIT_EXCEEDED` with `Retry-After`',
  },
  wsMessagesPerSecond: {
    env: 'KERUTA_WS_MESSAGES_PER_SECOND',
    key: 'wsMessagesPerSecond',
    ...COUNT,
    default: 500,
    doc: 'WebSocket messages per second per connection',
  },
  maxConnectionsPerCredential: {
    env: 'KERUTA_MAX_CONNECTIONS_PER_CREDENTIAL',
    key: 'maxConnectionsPerCredential',
    ...COUNT,
    default: 200,
    doc: 'open WebSockets per credential, however it came (header, `?token=` or an `auth` message); over it: `RATE_LIMIT_EXCEEDED`, closed with 4429',
  },
  authFailureLimit: {
    env: 'KERUTA_AUTH_FAILURE_LIMIT',
    key: 'authFailureLimit',
    ...COUNT,
    default: 100,
    doc: 'refused credentials per client address in a window; after that every credential from the address, a valid one too, gets `429 RATE_LIMIT_EXCEEDED` with `Retry-After` until the window ends (WebSocket: the error, then close 4429). Requests without a credential are not counted',
  },
  authFailureWindowMs: {
    env: 'KERUTA_AUTH_FAILURE_WINDOW_MS',
    key: 'authFailureWindowMs',
    ...integer(100, 86_400_000),
    default: 60_000,
    doc: "the length of `authFailureLimit`'s fixed windows, in ms; a credential takes its place in the count before it is checked, so guesses sent in parallel are held to the limit too",
  },
} as const satisfies Record<string, Setting<unknown>>;

export const SETTINGS = { ...GENERAL_SETTINGS, ...AUTH_SETTINGS };

/** The root README's tables, by block id (scripts/settings-tables.mjs writes them). */
export const README_TABLES: ReadmeTables = {
  'keruta-api': { settings: GENERAL_SETTINGS, unset: 'unset' },
  'keruta-api-authentication': { settings: AUTH_SETTINGS, unset: 'unset' },
};
