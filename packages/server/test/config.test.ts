// keruta-api's settings: flags over variables over the config file over defaults, and the
// start-up refusals a user can meet.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderSettingsTable, settingsTableIn } from '@keruta/settings';
import { NODE_FLAGS, README_TABLES, SETTINGS, loadConfig, ConfigError, type ServerConfig } from 'keruta-api';
import { makeTempDir } from '@keruta/testing';

const cli = join(createRequire(import.meta.url).resolve('keruta-api'), '..', 'cli.js');
const run = promisify(execFile);

function config(argv: string[], env: Record<string, string> = {}): ServerConfig {
  const loaded = loadConfig({ argv, env });
  if (loaded.help) throw new Error('unexpected help');
  return loaded.config;
}

describe('keruta-api configuration', () => {
  it('defaults to 127.0.0.1:8080, SQLite under ./data, the memory bus and no auth', () => {
    expect(config([])).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: 'sqlite:./data/keruta.db',
      busUrl: 'memory',
      auth: { mode: 'none' },
    });
  });

  it('takes flags over KERUTA_* variables over the config file', async () => {
    await using dir = await makeTempDir();
    const file = join(dir.path, 'keruta.yaml');
    await writeFile(file, 'port: 9000\ndatabaseUrl: sqlite:/tmp/file.db\nbusUrl: memory\nretentionDays: 7\n');
    const fromFile = config(['--config', file]);
    expect(fromFile).toMatchObject({ port: 9000, databaseUrl: 'sqlite:/tmp/file.db', retentionDays: 7 });
    const fromEnv = config(['--config', file], { KERUTA_API_PORT: '9100' });
    expect(fromEnv.port).toBe(9100);
    const fromFlag = config(['--config', file, '--port', '9200', '--db', 'sqlite:/tmp/flag.db'], { KERUTA_API_PORT: '9100' });
    expect(fromFlag).toMatchObject({ port: 9200, databaseUrl: 'sqlite:/tmp/flag.db' });
    expect(Object.isFrozen(fromFlag)).toBe(true);
  });

  it.each([
    [['--port', 'eighty'], {}, '--port'],
    [[], { KERUTA_API_PORT: '70000' }, 'KERUTA_API_PORT'],
    [[], { KERUTA_AUTH_MODE: 'magic' }, 'KERUTA_AUTH_MODE'],
    [[], { KERUTA_RETENTION_DAYS: '-1' }, 'KERUTA_RETENTION_DAYS'],
    [['--wat'], {}, 'wat'],
    [['--config', '/nonexistent/keruta.yaml'], {}, '/nonexistent/keruta.yaml'],
  ])('rejects %j %j naming %s', (argv, env, name) => {
    expect(() => config(argv, env)).toThrow(ConfigError);
    expect(() => config(argv, env)).toThrow(name);
  });

  it('refuses to listen beyond loopback without authentication, saying why', () => {
    expect(() => config(['--host', '0.0.0.0'])).toThrow(/refusing to listen on 0\.0\.0\.0 without authentication/);
    expect(config(['--host', 'localhost']).host).toBe('localhost');
    expect(config(['--host', '::1']).host).toBe('::1');
  });

  it('reads the allowed hosts, request deadlines and unauthenticated-connection caps, and refuses a headers timeout over the request timeout', () => {
    expect(config([]).security).toMatchObject({
      allowedHosts: [],
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxUnauthenticatedPerAddress: 512,
      maxUnauthenticatedConnections: 4096,
    });
    const set = config([], {
      KERUTA_ALLOWED_HOSTS: 'keruta.internal, logs.lan:8080',
      KERUTA_HEADERS_TIMEOUT_MS: '2000',
      KERUTA_REQUEST_TIMEOUT_MS: '4000',
      KERUTA_KEEP_ALIVE_TIMEOUT_MS: '1000',
      KERUTA_MAX_UNAUTHENTICATED_PER_ADDRESS: '10',
      KERUTA_MAX_UNAUTHENTICATED_CONNECTIONS: '100',
    });
    expect(set.security).toMatchObject({
      allowedHosts: ['keruta.internal', 'logs.lan:8080'],
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      keepAliveTimeoutMs: 1000,
      maxUnauthenticatedPerAddress: 10,
      maxUnauthenticatedConnections: 100,
    });
    expect(() => config([], { KERUTA_HEADERS_TIMEOUT_MS: '60000' })).toThrow(/KERUTA_HEADERS_TIMEOUT_MS \(60000\): must not exceed KERUTA_REQUEST_TIMEOUT_MS/);
    expect(() => config([], { KERUTA_MAX_UNAUTHENTICATED_PER_ADDRESS: '0' })).toThrow(/KERUTA_MAX_UNAUTHENTICATED_PER_ADDRESS: must be a whole number/);
  });

  it('reports every bad setting at once, each naming where its value came from, and never repeats a secret', async () => {
    expect(() => config(['--port', 'x'], { KERUTA_MAX_BODY_BYTES: 'lots' })).toThrow(
      '--port: must be a whole number from 0 to 65535, got "x"\nKERUTA_MAX_BODY_BYTES: must be a whole number from 1024 to 268435456, got "lots"',
    );
    await using dir = await makeTempDir();
    const file = join(dir.path, 'keruta.yaml');
    await writeFile(file, 'metricsPublic: maybe\nauth:\n  jwtSecret: 12345678901234567\n');
    const message = (() => {
      try {
        config(['--config', file]);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toBe(`auth.jwtSecret in ${file}: must be a non-empty string\nmetricsPublic in ${file}: must be true or false, got "maybe"`);
  });

  it("is documented: the root README's two settings tables are the ones generated from its settings (flag, variable, config key, default, meaning)", async () => {
    const readme = await readFile(join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(Object.keys(README_TABLES)).toEqual(['keruta-api', 'keruta-api-authentication']);
    for (const [id, table] of Object.entries(README_TABLES)) {
      expect(settingsTableIn(readme, id), `${id}: regenerate it with node scripts/settings-tables.mjs --write`).toBe(renderSettingsTable(table.settings, table));
    }
  });
});

describe('keruta-api command', () => {
  it('prints its URL when listening and logs JSON lines to stderr', async () => {
    await using dir = await makeTempDir();
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [cli, '--port', '0', '--db', `sqlite:${join(dir.path, 'sub', 'k.db')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    await new Promise<void>((resolve) => child.stdout.on('data', (c: Buffer) => ((out += c.toString()), out.includes('\n') && resolve())));
    expect(out).toMatch(/^keruta-api listening on http:\/\/127\.0\.0\.1:\d+\n/);
    const url = /http:\/\/\S+/.exec(out)?.[0] ?? '';
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = err.trim().split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('level');
  });

  it('exits 2 with a clear message on a bad setting, and refuses 0.0.0.0 without auth', async () => {
    const bad = await run(process.execPath, [cli, '--port', 'x']).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain('--port');
    const open = await run(process.execPath, [cli, '--host', '0.0.0.0']).catch((e: { code: number; stderr: string }) => e);
    expect(open).toMatchObject({ code: 2 });
    expect((open as { stderr: string }).stderr).toContain('without authentication');
  });

  it('prints its usage with --help', async () => {
    const { stdout } = await run(process.execPath, [cli, '--help']);
    expect(stdout).toContain('--db URL');
  });

  it('lists in --help each setting that has a flag, with its variable and default', async () => {
    const { stdout } = await run(process.execPath, [cli, '--help']);
    const flagged = Object.values(SETTINGS).filter((setting) => 'flag' in setting);
    expect(flagged.length).toBeGreaterThan(5);
    for (const setting of flagged) {
      const line = stdout.split('\n').find((l) => l.startsWith(`  ${setting.flag} `));
      expect(line, setting.flag).toContain(`(${setting.env}`);
      if ('default' in setting) expect(line, setting.flag).toContain(`default ${String(setting.default)})`);
    }
  });

  it('runs as the keruta-api command with the Node flags every other start passes', async () => {
    const bin = join(cli, '..', '..', 'bin', 'keruta-api.js');
    const shebang = (await readFile(bin, 'utf8')).split('\n', 1)[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    // Executed through its shebang, as npm's link of the command is.
    const { stdout } = await run(bin, ['--help'], { env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` } });
    expect(stdout).toContain('--db URL');
  });
});
