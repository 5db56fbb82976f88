// The public entry of @keruta/testing (it starts keruta-api; `@keruta/testing/base` is the part that does not).
export { makeTempDir, type TempDir } from './temp-dir.js';
export { waitUntil } from './wait-until.js';
export { startServer, type TestServer, type StartServerOptions } from './start-server.js';
export { spawnServer, freePort, type SpawnedServer, type SpawnServerOptions } from './spawn-server.js';
export { connectClient, type RecordingClient } from './ws-client.js';
export { readJson, type LooseJson } from './read-json.js';
export { redisAnswers, warnRedisMissing, TEST_REDIS_URL } from './redis.js';
export { createTestDatabase, TEST_POSTGRES_ADMIN_URL, type TestDatabase } from './postgres.js';
export { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
