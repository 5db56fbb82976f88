// `@keruta/testing/base`: the helpers that need nothing of keruta-api, for the tests of packages the
// server depends on (storage) or that run without it (agent units): waiting, sleeping, temp dirs,
// and a writer of numbered lines to a server started elsewhere.
export { waitUntil } from './wait-until.js';
export { makeTempDir, type TempDir } from './temp-dir.js';
export { setTimeout as sleep } from 'node:timers/promises';
export { startWriter, type Writer, type WriterOptions, type RestWriterOptions, type WebSocketWriterOptions } from './writer.js';
