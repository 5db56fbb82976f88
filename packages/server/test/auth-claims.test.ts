// Claims fail closed: a JWT claim or an API-keys entry of any shape but the documented one
// rejects the credential (401 UNAUTHORIZED naming the claim), never widens it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createServer, defineConfig, hashApiKey, writeApiKeysFile } from 'keruta-api';
import { connectClient, makeTempDir, readJson, startServer, type TempDir, type TestServer } from '@keruta/testing';

const SECRET = 'claims-secret-of-32-characters!!';
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('tester').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

const BAD_CLAIMS: [string, Record<string, unknown>, string][] = [
  ['tasks as a string', { scope: 'logs:read', tasks: 'build-*' }, 'tasks'],
  ['tasks as an empty list', { scope: 'logs:read', tasks: [] }, 'tasks'],
  ['tasks with a non-string entry', { scope: 'logs:read', tasks: ['build-*', 7] }, 'tasks'],
  ['tasks with a pattern no task id can match', { scope: 'logs:read', tasks: ['build/*'] }, 'tasks'],
  ['tasks as null', { scope: 'logs:read', tasks: null }, 'tasks'],
  ['tasks as an object', { scope: 'logs:read', tasks: { any: true } }, 'tasks'],
  ['an unknown scope in scope', { scope: 'logs:read logs:admin' }, 'scope'],
  ['an empty scope', { scope: '' }, 'scope'],
  ['scope as a number', { scope: 1 }, 'scope'],
  ['scopes as an empty list', { scopes: [] }, 'scopes'],
  ['scopes with a non-string entry', { scopes: ['logs:read', 5] }, 'scopes'],
  ['scopes as a string', { scopes: 'logs:read' }, 'scopes'],
];

describe('JWT claims', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ config: { auth: { mode: 'jwt', jwtSecret: SECRET } } });
    const seed = await fetch(`${server.apiUrl}/tasks/secret-1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await sign({ scope: 'logs:write' })}` },
      body: JSON.stringify({ source: 'stdout', level: 'INFO', message: 'not for build tokens' }),
    });
    expect(seed.status).toBe(201);
  });
  afterAll(async () => server.close());

  it.each(BAD_CLAIMS)('refuses a token with %s: 401 UNAUTHORIZED naming the claim', async (_name, claims, claim) => {
    const response = await fetch(`${server.apiUrl}/tasks/secret-1/logs`, { headers: { authorization: `Bearer ${await sign(claims)}` } });
    expect(response.status).toBe(401);
    const body = await readJson(response);
    expect(body.code).toBe('UNAUTHORIZED');
    expect(body.message).toContain(`${claim} claim`);
  });

  it.each(BAD_CLAIMS.slice(0, 2))('refuses a WebSocket with %s', async (_name, claims) => {
    await using client = await connectClient(`${server.wsUrl}/secret-1`, { headers: { authorization: `Bearer ${await sign(claims)}` } });
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    expect(await client.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await closed).toBe(4401);
  });

  it('still limits a well-formed tasks claim to its tasks, and a token with no tasks claim to none', async () => {
    const limited = await fetch(`${server.apiUrl}/tasks/secret-1/logs`, { headers: { authorization: `Bearer ${await sign({ scope: 'logs:read', tasks: ['build-*'] })}` } });
    expect(limited.status).toBe(403);
    const every = await fetch(`${server.apiUrl}/tasks/secret-1/logs`, { headers: { authorization: `Bearer ${await sign({ scopes: ['logs:read'] })}` } });
    expect(every.status).toBe(200);
  });
});

describe('the API keys file', () => {
  let dir: TempDir;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(async () => dir.remove());

  const entry = (fields: Record<string, unknown>) => ({ id: 'k2', hash: hashApiKey('krt_k2_x'), createdAt: '', ...fields });

  it.each([
    ['tasks as a string', { scopes: ['logs:read'], tasks: 'build-*' }, 'tasks'],
    ['tasks as an empty list', { scopes: ['logs:read'], tasks: [] }, 'tasks'],
    ['an unknown scope', { scopes: ['logs:read', 'logs:everything'] }, 'scopes'],
    ['no scopes', { scopes: [] }, 'scopes'],
    ['scopes as a string', { scopes: 'logs:read' }, 'scopes'],
  ])('refuses to start with an entry with %s, naming the entry', async (_name, fields, field) => {
    const file = join(dir.path, `keys-${field}-${Math.random().toString(36).slice(2)}.json`);
    const good = createApiKey({ scopes: ['logs:read'] });
    await writeFile(file, JSON.stringify({ keys: [good.stored, entry(fields)] }));
    const config = defineConfig({ port: 0, databaseUrl: `sqlite:${join(dir.path, 'never.db')}`, auth: { mode: 'apikey', apiKeysFile: file } });
    await expect(createServer(config)).rejects.toThrow(new RegExp(`keys\\[1\\] \\(id k2\\): ${field}`));
  });

  it('makes keruta-api exit with status 2 and a message naming the entry, before opening the store', async () => {
    const file = join(dir.path, 'keys-cli.yaml');
    await writeFile(file, `keys:\n  - id: k9\n    hash: ${hashApiKey('krt_k9_x')}\n    scopes: [logs:read]\n    tasks: "build-*"\n`);
    const db = join(dir.path, 'cli.db');
    const cli = fileURLToPath(new URL('../bin/keruta-api.js', import.meta.url));
    const env = { ...process.env, KERUTA_AUTH_MODE: 'apikey', KERUTA_API_KEYS_FILE: file, KERUTA_API_PORT: '0', KERUTA_DATABASE_URL: `sqlite:${db}` };
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [cli], { env, timeout: 20_000 }, (_error, _stdout, stderr) => resolve({ code: child.exitCode, stderr }));
    });
    expect(code).toBe(2);
    expect(stderr).toContain('keys[0] (id k9): tasks: must be a list of task-id patterns');
    expect(existsSync(db)).toBe(false);
  });

  it('serves a key with a well-formed tasks list only those tasks', async () => {
    const file = join(dir.path, 'keys-good.yaml');
    const build = createApiKey({ scopes: ['logs:read'], tasks: ['build-*'] });
    writeApiKeysFile(file, [build.stored]);
    await using server = await startServer({ config: { auth: { mode: 'apikey', apiKeysFile: file } } });
    expect((await fetch(`${server.apiUrl}/tasks/secret-1/logs`, { headers: { 'x-api-key': build.key } })).status).toBe(403);
  });
});
