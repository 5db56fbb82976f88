// The `keruta` command's settings, from CLI_SETTINGS: where the server is and the credentials
// (`--server` over KERUTA_API_URL / KERUTA_WEBSOCKET_URL, `--token` over KERUTA_AUTH_TOKEN),
// colours (`--color`, NO_COLOR), the messages for bad values, and the README's table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSettingsTable, settingsTableIn } from '@keruta/settings';
import { README_TABLES, UsageError, colorEnabled, connectionSettings } from '../src/cli/config.js';

describe('keruta settings', () => {
  it('defaults to http://127.0.0.1:8080 and derives the WebSocket from KERUTA_API_URL', () => {
    expect(connectionSettings({}, {})).toEqual({
      apiUrl: 'http://127.0.0.1:8080/api/v1',
      webSocketUrl: 'ws://127.0.0.1:8080/ws/tasks',
      token: undefined,
      apiKey: undefined,
    });
    const settings = connectionSettings({}, { KERUTA_API_URL: ' https://logs.example.com/api/v1/ ', KERUTA_AUTH_TOKEN: 'jwt', KERUTA_API_KEY: 'key' });
    expect(settings).toEqual({ apiUrl: 'https://logs.example.com/api/v1', webSocketUrl: 'wss://logs.example.com/ws/tasks', token: 'jwt', apiKey: 'key' });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('takes --server over both variables, which are then not read, and --token over KERUTA_AUTH_TOKEN', () => {
    const env = { KERUTA_API_URL: 'not a url', KERUTA_WEBSOCKET_URL: 'ws://elsewhere/ws/tasks', KERUTA_AUTH_TOKEN: 'from-env' };
    expect(connectionSettings({ server: 'http://keruta-api:8080/prefix/', token: 'from-flag' }, env)).toEqual({
      apiUrl: 'http://keruta-api:8080/prefix/api/v1',
      webSocketUrl: 'ws://keruta-api:8080/prefix/ws/tasks',
      token: 'from-flag',
      apiKey: undefined,
    });
  });

  it('refuses a bad value with a UsageError naming the flag or variable', () => {
    const refusal = (flags: { server?: string; token?: string }, env: Record<string, string> = {}): string => {
      try {
        connectionSettings(flags, env);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('expected a UsageError');
    };
    expect(refusal({}, { KERUTA_API_URL: 'keruta-api:8080' })).toBe('KERUTA_API_URL: must start with http:// or https://, got "keruta-api:8080"');
    expect(refusal({}, { KERUTA_WEBSOCKET_URL: 'http://x/ws' })).toBe('KERUTA_WEBSOCKET_URL: must start with ws:// or wss://, got "http://x/ws"');
    expect(refusal({ server: 'nowhere' })).toBe('--server: must be a URL such as http://keruta-api:8080, got "nowhere"');
    expect(refusal({ token: '  ' })).toBe('--token: must not be empty');
  });

  it('colours on a terminal unless NO_COLOR is set and not empty; --color always or never wins', () => {
    const terminal = { isTTY: true };
    expect(colorEnabled('auto', terminal, {})).toBe(true);
    expect(colorEnabled('auto', terminal, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled('auto', terminal, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled('auto', {}, {})).toBe(false);
    expect(colorEnabled('always', {}, { NO_COLOR: '1' })).toBe(true);
    expect(colorEnabled('never', terminal, {})).toBe(false);
  });

  it("is documented: the README's settings table is the one generated from CLI_SETTINGS (flag, variable, default, meaning)", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    for (const [id, table] of Object.entries(README_TABLES)) {
      expect(settingsTableIn(readme, id), `${id}: regenerate it with node scripts/settings-tables.mjs --write`).toBe(renderSettingsTable(table.settings, table));
    }
  });
});
