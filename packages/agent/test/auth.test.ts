// KERUTA_AUTH_TOKEN and KERUTA_API_KEY against a keruta-api that asks for credentials: a good
// token gets the lines stored; a bad one is refused, said so (without printing it), and the
// lines stay in the spool for a later flush with the right token.
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type SpawnedServer, type TempDir } from '@keruta/testing';
import { cleanEnv, runAgent, writeScript } from './helpers.js';

const SECRET = 'a-test-secret-of-enough-length';
let server: SpawnedServer;
let temp: TempDir;
let script: string;

function jwt(claims: Record<string, unknown>, secret = SECRET): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const reader = () => ({ authorization: `Bearer ${jwt({ scope: 'logs:read' })}` });

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-auth-');
  server = await spawnServer({ env: { KERUTA_AUTH_MODE: 'jwt', KERUTA_JWT_SECRET: SECRET } });
  script = writeScript(temp.path, 'script.sh', '#!/bin/sh\nfor i in 1 2 3; do echo "line $i"; done\n');
});
afterAll(async () => {
  await server.stop();
  await temp.remove();
});

async function stored(taskId: string): Promise<string[]> {
  const response = await fetch(`${server.apiUrl}/tasks/${taskId}/logs?size=100`, { headers: reader() });
  if (response.status === 404) return [];
  const page = (await response.json()) as { content: { source: string; message: string }[] };
  return page.content.filter((e) => e.source === 'stdout').map((e) => e.message);
}

describe('credentials', () => {
  it('sends KERUTA_AUTH_TOKEN as a bearer token', async () => {
    const env = cleanEnv({
      KERUTA_WEBSOCKET_URL: server.wsUrl,
      KERUTA_API_URL: server.apiUrl,
      KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool-good'),
      KERUTA_AUTH_TOKEN: jwt({ scope: 'logs:write' }),
    });
    const run = await runAgent(['execute', '--task-id', 'with-token', '--script', script], env);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(await stored('with-token')).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('says a refused token is refused, keeps the lines, and a flush with a good token sends them', async () => {
    const badToken = jwt({ scope: 'logs:write' }, 'not-the-secret-the-server-has');
    const env = cleanEnv({
      KERUTA_WEBSOCKET_URL: server.wsUrl,
      KERUTA_API_URL: server.apiUrl,
      KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool-bad'),
      KERUTA_LOG_EXIT_TIMEOUT: '3s',
      KERUTA_AUTH_TOKEN: badToken,
    });
    const run = await runAgent(['execute', '--task-id', 'bad-token', '--script', script], env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe('line 1\nline 2\nline 3\n');
    expect(run.stderr).toMatch(/UNAUTHORIZED/);
    expect(run.stderr).toMatch(/5 lines were not delivered/);
    expect(run.stderr).not.toContain(badToken);
    expect(await stored('bad-token')).toEqual([]);

    const flush = await runAgent(['flush'], { ...env, KERUTA_AUTH_TOKEN: jwt({ scope: 'logs:write' }) });
    expect(flush.status).toBe(0);
    expect(await stored('bad-token')).toEqual(['line 1', 'line 2', 'line 3']);
  });
});
