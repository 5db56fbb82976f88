// Who may do what: every endpoint and WebSocket action against every kind of credential,
// as one table, for JWT and for API keys.
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, writeApiKeysFile } from 'keruta-api';
import { connectClient, makeTempDir, readJson, startServer, type TempDir, type TestServer } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';

const SECRET = 'matrix-secret-of-32-characters!!';
const key = new TextEncoder().encode(SECRET);

async function jwt(claims: Record<string, unknown>, options: { expiresIn?: string | number; secret?: Uint8Array } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('tester')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(options.secret ?? key);
}

type Credential = 'none' | 'malformed' | 'expired' | 'wrong signature' | 'wrong scope' | 'other task' | 'valid';
const CREDENTIALS: Credential[] = ['none', 'malformed', 'expired', 'wrong signature', 'wrong scope', 'other task', 'valid'];

interface Endpoint {
  name: string;
  method: string;
  path: string;
  scope: 'logs:read' | 'logs:write' | 'logs:delete';
  body?: unknown;
  /** Not about one task: a credential for other tasks is still served. */
  anyTask?: boolean;
  ok: number;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'list logs', method: 'GET', path: '/api/v1/tasks/job-1/logs', scope: 'logs:read', ok: 200 },
  { name: 'stats', method: 'GET', path: '/api/v1/tasks/job-1/logs/stats', scope: 'logs:read', ok: 200 },
  { name: 'export', method: 'GET', path: '/api/v1/tasks/job-1/logs/export?format=csv', scope: 'logs:read', ok: 200 },
  { name: 'task summary', method: 'GET', path: '/api/v1/tasks/job-1', scope: 'logs:read', ok: 200 },
  { name: 'error summary', method: 'GET', path: '/api/v1/tasks/job-1/summary', scope: 'logs:read', ok: 200 },
  { name: 'errors with context', method: 'GET', path: '/api/v1/tasks/job-1/errors', scope: 'logs:read', ok: 200 },
  { name: 'compare', method: 'GET', path: '/api/v1/tasks/job-1/compare?with=job-1', scope: 'logs:read', ok: 200 },
  { name: 'task list', method: 'GET', path: '/api/v1/tasks', scope: 'logs:read', anyTask: true, ok: 200 },
  { name: 'search', method: 'GET', path: '/api/v1/search?q=line', scope: 'logs:read', anyTask: true, ok: 200 },
  { name: 'metrics', method: 'GET', path: '/metrics', scope: 'logs:read', anyTask: true, ok: 200 },
  { name: 'post', method: 'POST', path: '/api/v1/tasks/job-1/logs', scope: 'logs:write', body: { source: 'stdout', level: 'INFO', message: 'm' }, ok: 201 },
  { name: 'delete', method: 'DELETE', path: '/api/v1/tasks/job-1/logs?before=2000-01-01T00:00:00Z', scope: 'logs:delete', ok: 200 },
];

function expected(endpoint: Pick<Endpoint, 'ok' | 'anyTask'>, credential: Credential): { status: number; code?: string } {
  switch (credential) {
    case 'none':
    case 'malformed':
    case 'expired':
    case 'wrong signature':
      return { status: 401, code: 'UNAUTHORIZED' };
    case 'wrong scope':
      return { status: 403, code: 'FORBIDDEN' };
    case 'other task':
      return endpoint.anyTask ? { status: endpoint.ok } : { status: 403, code: 'FORBIDDEN' };
    case 'valid':
      return { status: endpoint.ok };
  }
}

async function jwtHeaders(credential: Credential, scope: string): Promise<Record<string, string>> {
  const otherScope = scope === 'logs:read' ? 'logs:write' : 'logs:read';
  switch (credential) {
    case 'none':
      return {};
    case 'malformed':
      return { authorization: 'Bearer not.a-token' };
    case 'expired':
      return { authorization: `Bearer ${await jwt({ scope }, { expiresIn: Math.floor(Date.now() / 1000) - 120 })}` };
    case 'wrong signature':
      return { authorization: `Bearer ${await jwt({ scope }, { secret: new TextEncoder().encode('another-secret-of-32-characters!') })}` };
    case 'wrong scope':
      return { authorization: `Bearer ${await jwt({ scope: otherScope })}` };
    case 'other task':
      return { authorization: `Bearer ${await jwt({ scope, tasks: ['other-*'] })}` };
    case 'valid':
      return { authorization: `Bearer ${await jwt({ scope, tasks: ['job-*'] })}` };
  }
}

describe('auth mode jwt (HS256)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ config: { auth: { mode: 'jwt', jwtSecret: SECRET } } });
    const seed = await fetch(`${server.apiUrl}/tasks/job-1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await jwt({ scope: 'logs:write' })}` },
      body: JSON.stringify({ source: 'stdout', level: 'INFO', message: 'seed' }),
    });
    expect(seed.status).toBe(201);
  });
  afterAll(async () => server.close());

  const table = ENDPOINTS.flatMap((endpoint) => CREDENTIALS.map((credential) => [endpoint.name, credential, endpoint] as const));
  it.each(table)('%s with %s credentials', async (_name, credential, endpoint) => {
    const headers = await jwtHeaders(credential, endpoint.scope);
    const response = await fetch(`${server.baseUrl}${endpoint.path}`, {
      method: endpoint.method,
      headers,
      ...(endpoint.body === undefined ? {} : { body: JSON.stringify(endpoint.body) }),
    });
    const want = expected(endpoint, credential);
    expect(response.status).toBe(want.status);
    if (want.code !== undefined) expect((await readJson(response)).code).toBe(want.code);
    else await response.arrayBuffer();
  });

  it('keeps /health open', async () => {
    const response = await fetch(`${server.baseUrl}/health`);
    expect(response.status).toBe(200);
  });

  it('shows a credential limited to some tasks only those tasks in the list', async () => {
    await fetch(`${server.apiUrl}/tasks/other-1/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await jwt({ scope: 'logs:write' })}` },
      body: JSON.stringify({ source: 'stdout', level: 'INFO', message: 'x' }),
    });
    const list = await readJson(fetch(`${server.apiUrl}/tasks`, { headers: await jwtHeaders('other task', 'logs:read') }));
    expect(list.content.map((t: { taskId: string }) => t.taskId)).toEqual(['other-1']);
    // The counts too: they must not tell how many tasks the credential cannot see.
    expect(list).toMatchObject({ totalElements: 1, totalPages: 1 });
    const firstPage = await readJson(fetch(`${server.apiUrl}/tasks?size=1`, { headers: await jwtHeaders('other task', 'logs:read') }));
    expect(firstPage.content.map((t: { taskId: string }) => t.taskId)).toEqual(['other-1']);
  });

  it('compares only with a task the credential covers too', async () => {
    await fetch(`${server.apiUrl}/tasks/other-2/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await jwt({ scope: 'logs:write' })}` },
      body: JSON.stringify({ source: 'stdout', level: 'INFO', message: 'x' }),
    });
    const response = await fetch(`${server.apiUrl}/tasks/job-1/compare?with=other-2`, { headers: await jwtHeaders('valid', 'logs:read') });
    expect(response.status).toBe(403);
    expect((await readJson(response)).code).toBe('FORBIDDEN');
  });

  const wsTable = (['subscribe', 'write'] as const).flatMap((action) => CREDENTIALS.map((credential) => [action, credential] as const));
  it.each(wsTable)('WebSocket %s with %s credentials', async (action, credential) => {
    const scope = action === 'subscribe' ? 'logs:read' : 'logs:write';
    const headers = await jwtHeaders(credential, scope);
    await using client = await connectClient(`${server.wsUrl}/job-1`, { headers });
    if (action === 'subscribe') client.send({ type: 'subscribe' });
    else client.send({ type: 'logs', batchId: 'b', entries: [{ source: 'stdout', level: 'INFO', message: 'ws' }] });
    const want = expected({ ok: 200 }, credential);
    const answer = await client.waitFor((m) => m.type === 'error' || m.type === 'subscribed' || m.type === 'ack');
    if (want.code === undefined) expect(answer.type).toBe(action === 'subscribe' ? 'subscribed' : 'ack');
    else expect(answer).toMatchObject({ type: 'error', code: want.code });
  });

  it('accepts a first message {"type":"auth"} and a token query parameter', async () => {
    const token = await jwt({ scope: 'logs:read' });
    await using byMessage = await connectClient(`${server.wsUrl}/job-1`);
    byMessage.send({ type: 'subscribe' });
    expect(await byMessage.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'UNAUTHORIZED' });
    byMessage.send({ type: 'auth', token });
    await sleep(50);
    byMessage.send({ type: 'subscribe' });
    await byMessage.waitFor((m) => m.type === 'subscribed');
    await using byQuery = await connectClient(`${server.wsUrl}/job-1?token=${token}`);
    byQuery.send({ type: 'subscribe' });
    await byQuery.waitFor((m) => m.type === 'subscribed');
  });

  it('refuses a token in the URL from a foreign page origin', async () => {
    const token = await jwt({ scope: 'logs:read' });
    await expect(connectClient(`${server.wsUrl}/job-1?token=${token}`, { headers: { origin: 'https://evil.example' } })).rejects.toThrow(/403/);
    await using own = await connectClient(`${server.wsUrl}/job-1?token=${token}`, { headers: { origin: server.baseUrl } });
    own.send({ type: 'ping' });
    await own.waitFor((m) => m.type === 'pong');
  });

  it('closes a subscription with UNAUTHORIZED when its token expires', async () => {
    const token = await jwt({ scope: 'logs:read' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    await using client = await connectClient(`${server.wsUrl}/job-1`, { headers: { authorization: `Bearer ${token}` } });
    client.send({ type: 'subscribe' });
    await client.waitFor((m) => m.type === 'subscribed');
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    expect(await client.waitFor((m) => m.type === 'error', 40_000)).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await closed).toBe(4401);
  }, 45_000);
});

describe('WebSocket without credentials', () => {
  it('is closed with UNAUTHORIZED after the auth timeout', async () => {
    await using server = await startServer({
      config: { auth: { mode: 'jwt', jwtSecret: SECRET }, security: { ...(await import('keruta-api')).defineConfig().security, wsAuthTimeoutMs: 200 } },
    });
    await using client = await connectClient(`${server.wsUrl}/job-1`);
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    expect(await closed).toBe(4401);
    expect(client.messages.at(-1)).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' });
  });
});

describe('auth mode apikey', () => {
  let server: TestServer;
  let dir: TempDir;
  let reader: string;
  let writer: string;
  beforeAll(async () => {
    dir = await makeTempDir();
    const file = join(dir.path, 'keys.yaml');
    const read = createApiKey({ scopes: ['logs:read'], tasks: ['job-*'] });
    const write = createApiKey({ scopes: ['logs:write'] });
    writeApiKeysFile(file, [read.stored, write.stored]);
    reader = read.key;
    writer = write.key;
    server = await startServer({ config: { auth: { mode: 'apikey', apiKeysFile: file } } });
  });
  afterAll(async () => {
    await server.close();
    await dir.remove();
  });

  it.each([
    ['X-API-Key', (k: string) => ({ 'x-api-key': k })],
    ['Authorization: ApiKey', (k: string) => ({ authorization: `ApiKey ${k}` })],
  ])('takes the key in the %s header and checks its scope and tasks', async (_name, header) => {
    const post = await fetch(`${server.apiUrl}/tasks/job-2/logs`, { method: 'POST', headers: header(writer), body: JSON.stringify({ source: 'stdout', level: 'INFO', message: 'k' }) });
    expect(post.status).toBe(201);
    expect((await fetch(`${server.apiUrl}/tasks/job-2/logs`, { headers: header(reader) })).status).toBe(200);
    expect((await fetch(`${server.apiUrl}/tasks/job-2/logs`, { headers: header(writer) })).status).toBe(403);
    expect((await fetch(`${server.apiUrl}/tasks/elsewhere/logs`, { headers: header(reader) })).status).toBe(403);
    expect((await fetch(`${server.apiUrl}/tasks/job-2/logs`, { headers: header(`${reader}x`) })).status).toBe(401);
    expect((await fetch(`${server.apiUrl}/tasks/job-2/logs`, { headers: header('krt_nothing_here') })).status).toBe(401);
  });

  it('stores only the hash of a key', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(join(dir.path, 'keys.yaml'), 'utf8');
    expect(text).not.toContain(reader.split('_')[2]);
    expect(text).toContain('sha256:');
  });
});
