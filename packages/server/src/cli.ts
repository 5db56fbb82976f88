#!/usr/bin/env node
// The keruta-api command: read the config, open the store, listen, and shut down on SIGTERM/SIGINT.
import { ConfigError, USAGE, loadConfig } from './config.js';
import { createServer } from './create-server.js';
import { runKeysCommand } from './keys-command.js';

async function main(): Promise<number> {
  let loaded;
  try {
    if (process.argv[2] === 'keys') {
      return runKeysCommand({ argv: process.argv.slice(3), env: process.env, out: (text) => process.stdout.write(text) });
    }
    loaded = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`keruta-api: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (loaded.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const server = await createServer(loaded.config);
  const url = await server.listen();
  process.stdout.write(`keruta-api listening on ${url}\n`);
  server.app.log.info({ url, store: server.store.kind, bus: server.bus.kind, auth: loaded.config.auth.mode }, 'listening');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    // Whatever happens, exit within 10 s of the signal.
    setTimeout(() => process.exit(1), 10_000).unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`keruta-api: ${message}\n`);
    // A setting found bad only once read (a bad entry of the API keys file) is still a bad setting.
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
