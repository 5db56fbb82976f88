// The public entry of keruta-api, for embedding it and for tests.
export { createServer, type KerutaServer, type CreateServerOptions } from './create-server.js';
export { loadConfig, defineConfig, isLoopback, ConfigError, type ServerConfig, type AuthMode } from './config.js';
export { SETTINGS, README_TABLES } from './settings.js';
export { createApiKey, hashApiKey, readApiKeysFile, writeApiKeysFile, type StoredApiKey } from './auth/api-keys.js';
export { NODE_FLAGS } from './node-flags.js';
