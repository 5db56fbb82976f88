import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing/base';
import { renderSettingsTable, settingsTableIn } from '@keruta/settings';
import { loadConfig, SETTINGS } from '../src/config.js';

const temp = await makeTempDir('keruta-agent-config-');
afterAll(() => temp.remove());

/** The usage guide's config.yaml, verbatim. */
const GUIDE_YAML = `logStreaming:
  enabled: true
  bufferSize: 1000
  batchSize: 10
  flushInterval: 1s
  maxRetries: 3
  retryInterval: 5s
  
websocket:
  url: ws://keruta-api:8080/ws/tasks
  reconnectInterval: 5s
  maxReconnectAttempts: 10
  
api:
  url: http://keruta-api:8080/api/v1
  timeout: 30s
  retryCount: 3
  
logging:
  level: INFO
  format: json
  output: stdout
`;

async function load(input: Parameters<typeof loadConfig>[0]) {
  const result = await loadConfig({ env: {}, cwd: temp.path, ...input });
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

async function problem(input: Parameters<typeof loadConfig>[0]): Promise<string> {
  const result = await loadConfig({ env: {}, cwd: temp.path, ...input });
  if (result.ok) throw new Error('expected a configuration error');
  expect(result.error.code).toBe('CONFIG_INVALID');
  return result.error.message;
}

describe('agent configuration', () => {
  it('has defaults that reach a local keruta-api and stream INFO and above', async () => {
    const { config } = await load({ env: { HOME: '/home/someone' } });
    expect(config.websocket.url).toBe('ws://127.0.0.1:8080/ws/tasks');
    expect(config.api.url).toBe('http://127.0.0.1:8080/api/v1');
    expect(config.logging.level).toBe('INFO');
    expect(config.logStreaming.enabled).toBe(true);
    expect(config.logStreaming.flushIntervalMs).toBe(1000);
    expect(config.logStreaming.spoolDir).toBe('/home/someone/.local/state/keruta/spool');
    expect(config.auth.headers).toEqual({});
    expect(Object.isFrozen(config.logStreaming)).toBe(true);
  });

  it('keeps the spool under $XDG_STATE_HOME when it is set', async () => {
    const { config } = await load({ env: { HOME: '/home/someone', XDG_STATE_HOME: '/state' } });
    expect(config.logStreaming.spoolDir).toBe('/state/keruta/spool');
  });

  it("reads the usage guide's config.yaml verbatim", async () => {
    const file = join(temp.path, 'config.yaml');
    writeFileSync(file, GUIDE_YAML);
    const { config, warnings } = await load({ flags: { config: file } });
    expect(warnings).toEqual([]);
    expect(config.logStreaming).toMatchObject({ enabled: true, bufferSize: 1000, batchSize: 10, flushIntervalMs: 1000, maxRetries: 3, retryIntervalMs: 5000 });
    expect(config.websocket).toMatchObject({ url: 'ws://keruta-api:8080/ws/tasks', reconnectIntervalMs: 5000, maxReconnectAttempts: 10 });
    expect(config.api).toMatchObject({ url: 'http://keruta-api:8080/api/v1', timeoutMs: 30_000, retryCount: 3 });
    expect(config.logging).toEqual({ level: 'INFO', format: 'json', output: 'stdout' });
  });

  it('reads a JSON config file and filters.excludePatterns', async () => {
    const file = join(temp.path, 'config.json');
    writeFileSync(file, JSON.stringify({ filters: { excludePatterns: ['secret=\\S+'] }, api: { timeout: 2 } }));
    const { config } = await load({ flags: { config: file } });
    expect(config.filters.excludePatterns).toEqual(['secret=\\S+']);
    expect(config.api.timeoutMs).toBe(2000);
  });

  it("takes every KERUTA_* variable of the guide", async () => {
    const { config } = await load({
      env: {
        KERUTA_LOG_STREAMING_ENABLED: 'true',
        KERUTA_LOG_BUFFER_SIZE: '1000',
        KERUTA_LOG_BATCH_SIZE: '10',
        KERUTA_LOG_FLUSH_INTERVAL: '1',
        KERUTA_WEBSOCKET_URL: 'ws://keruta-api:8080/ws/tasks',
        KERUTA_API_URL: 'http://keruta-api:8080/api/v1',
        KERUTA_AUTH_TOKEN: 'your-jwt-token-here',
        KERUTA_API_KEY: 'your-api-key-here',
        KERUTA_LOG_LEVEL: 'DEBUG',
        KERUTA_WEBSOCKET_TIMEOUT: '500ms',
        KERUTA_WEBSOCKET_RECONNECT_INTERVAL: '2s',
        KERUTA_WEBSOCKET_MAX_RECONNECT_ATTEMPTS: '4',
        KERUTA_API_TIMEOUT: '1m',
        KERUTA_API_RETRY_COUNT: '0',
        KERUTA_API_RETRY_INTERVAL: '250ms',
        KERUTA_LOG_SPOOL_DIR: 'spool',
        KERUTA_LOG_EXIT_TIMEOUT: '3s',
      },
    });
    expect(config.logStreaming).toMatchObject({ bufferSize: 1000, batchSize: 10, flushIntervalMs: 1000, exitTimeoutMs: 3000 });
    expect(config.logStreaming.spoolDir).toBe(join(temp.path, 'spool'));
    expect(config.websocket).toEqual({ url: 'ws://keruta-api:8080/ws/tasks', timeoutMs: 500, reconnectIntervalMs: 2000, maxReconnectAttempts: 4 });
    expect(config.api).toEqual({ url: 'http://keruta-api:8080/api/v1', timeoutMs: 60_000, retryCount: 0, retryIntervalMs: 250 });
    expect(config.logging.level).toBe('DEBUG');
    expect(config.auth.headers).toEqual({ authorization: 'Bearer your-jwt-token-here', 'x-api-key': 'your-api-key-here' });
  });

  it('lets flags win over variables, and variables over the file', async () => {
    const file = join(temp.path, 'levels.yaml');
    writeFileSync(file, 'logging:\n  level: ERROR\nlogStreaming:\n  batchSize: 7\n');
    const { config } = await load({ flags: { config: file, logLevel: 'DEBUG' }, env: { KERUTA_LOG_LEVEL: 'WARN', KERUTA_LOG_BATCH_SIZE: '9' } });
    expect(config.logging.level).toBe('DEBUG');
    expect(config.logStreaming.batchSize).toBe(9);
    const { config: fromFile } = await load({ flags: { config: file } });
    expect(fromFile.logStreaming.batchSize).toBe(7);
    expect(fromFile.logging.level).toBe('ERROR');
  });

  it('sends only the credential KERUTA_AUTH_TYPE asks for', async () => {
    const env = { KERUTA_AUTH_TOKEN: 't', KERUTA_API_KEY: 'k' };
    expect((await load({ env: { ...env, KERUTA_AUTH_TYPE: 'jwt' } })).config.auth.headers).toEqual({ authorization: 'Bearer t' });
    expect((await load({ env: { ...env, KERUTA_AUTH_TYPE: 'apikey' } })).config.auth.headers).toEqual({ 'x-api-key': 'k' });
    expect((await load({ env: { ...env, KERUTA_AUTH_TYPE: 'none' } })).config.auth.headers).toEqual({});
    expect(await problem({ env: { KERUTA_AUTH_TYPE: 'jwt' } })).toMatch(/KERUTA_AUTH_TOKEN/);
  });

  it('names the setting and where a bad value came from', async () => {
    expect(await problem({ env: { KERUTA_LOG_BATCH_SIZE: 'ten' } })).toBe(
      'KERUTA_LOG_BATCH_SIZE (environment): invalid value "ten": must be a whole number from 1 to 10000',
    );
    expect(await problem({ env: { KERUTA_LOG_FLUSH_INTERVAL: 'soon' } })).toMatch(/^KERUTA_LOG_FLUSH_INTERVAL \(environment\): invalid value "soon": must be a duration/);
    expect(await problem({ env: { KERUTA_WEBSOCKET_URL: 'http://x' } })).toMatch(/KERUTA_WEBSOCKET_URL .*ws:\/\/ or wss:\/\//);
    expect(await problem({ flags: { logLevel: 'LOUD' } })).toMatch(/^--log-level \(command line\): invalid value "LOUD"/);
    const file = join(temp.path, 'bad.yaml');
    writeFileSync(file, 'websocket:\n  maxReconnectAttempts: -1\nfilters:\n  excludePatterns: ["(unclosed"]\n');
    const message = await problem({ flags: { config: file } });
    expect(message).toContain(`websocket.maxReconnectAttempts in ${file}: invalid value -1`);
    expect(message).toContain(`filters.excludePatterns in ${file}`);
  });

  it('never prints a secret it rejects', async () => {
    const file = join(temp.path, 'secret.yaml');
    writeFileSync(file, 'auth:\n  token: 12345\n');
    const message = await problem({ flags: { config: file } });
    expect(message).toContain('auth.token');
    expect(message).not.toContain('12345');
  });

  it('reports a missing or broken config file', async () => {
    expect(await problem({ flags: { config: 'nope.yaml' } })).toMatch(/cannot read config file .*nope\.yaml: ENOENT/);
    const file = join(temp.path, 'broken.yaml');
    writeFileSync(file, 'logStreaming: [unclosed\n');
    expect(await problem({ flags: { config: file } })).toMatch(/is not valid YAML or JSON/);
  });

  it('warns about keys it does not know', async () => {
    const file = join(temp.path, 'typo.yaml');
    writeFileSync(file, 'websocket:\n  urll: ws://x\n');
    const { warnings } = await load({ flags: { config: file } });
    expect(warnings).toEqual([`config file ${file}: unknown setting "websocket.urll" ignored`]);
  });

  it("is documented: the README's settings table is the one generated from SETTINGS (flag, variable, config key, default, meaning)", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    expect(settingsTableIn(readme, 'keruta-agent'), 'regenerate it: node scripts/settings-tables.mjs --write').toBe(renderSettingsTable(SETTINGS));
  });
});
