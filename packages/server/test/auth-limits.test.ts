// Limits that cannot be sidestepped: connections per credential however the credential arrives,
// refused credentials per address, the address as the bucket where no credential is checked, and
// budgets shared by instances on one Redis.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { defineConfig, loadConfig, type ServerConfig } from 'keruta-api';
import {
  TEST_REDIS_URL,
  connectClient,
  readJson,
  redisAnswers,
  startServer,
  warnRedisMissing,
  type RecordingClient,
} from '@keruta/testing';
import { sleep } from '@keruta/testing/base';

const SECRET = 'limits-secret-of-32-characters!!';
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
const forged = () =>
  new SignJWT({ scope: 'logs:read' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(`not-the-secret-${randomUUID()}`));

const security = (overrides: Partial<ServerConfig['security']>): ServerConfig['security'] => ({ ...defineConfig().security, ...overrides });
const jwtMode = { mode: 'jwt', jwtSecret: SECRET } as const;

function closeCodeOf(client: RecordingClient): Promise<number> {
  return new Promise((resolve) => client.ws.once('close', (code) => resolve(code)));
}

describe('connections per credential', () => {
  it('counts sockets that authenticate by an auth message toward maxConnectionsPerCredential', async () => {
    await using server = await startServer({ config: { auth: jwtMode, security: security({ maxConnectionsPerCredential: 2 }) } });
    const token = await sign({ scope: 'logs:read' });
    await using byHeader = await connectClient(`${server.wsUrl}/t`, { headers: { authorization: `Bearer ${token}` } });
    await using byMessage = await connectClient(`${server.wsUrl}/t`);
    await using third = await connectClient(`${server.wsUrl}/t`);
    byMessage.send({ type: 'auth', token });
    await sleep(100);
    byMessage.send({ type: 'ping' });
    await byMessage.waitFor((m) => m.type === 'pong');
    const thirdClosed = closeCodeOf(third);
    third.send({ type: 'auth', token });
    expect(await third.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect(await thirdClosed).toBe(4429);
    byHeader.send({ type: 'ping' });
    await byHeader.waitFor((m) => m.type === 'pong');
  });

  it('gives the slot back when a socket closes, and counts a socket that authenticates twice once', async () => {
    await using server = await startServer({ config: { auth: jwtMode, security: security({ maxConnectionsPerCredential: 1 }) } });
    const token = await sign({ scope: 'logs:read' });
    const first = await connectClient(`${server.wsUrl}/t`);
    first.send({ type: 'auth', token });
    first.send({ type: 'auth', token });
    await sleep(100);
    first.send({ type: 'ping' });
    await first.waitFor((m) => m.type === 'pong');
    expect(first.messages.filter((m) => m.type === 'error')).toEqual([]);
    await first.close();
    await sleep(100);
    await using second = await connectClient(`${server.wsUrl}/t`, { headers: { authorization: `Bearer ${token}` } });
    second.send({ type: 'ping' });
    await second.waitFor((m) => m.type === 'pong');
  });
});

describe('refused credentials per address', () => {
  it('answers 429 RATE_LIMIT_EXCEEDED with Retry-After after N refused credentials in a window, even to a valid one', async () => {
    await using server = await startServer({ config: { auth: jwtMode, security: security({ authFailureLimit: 3, authFailureWindowMs: 60_000 }) } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.apiUrl}/tasks`, { headers: { authorization: `Bearer ${await forged()}` } })).status);
    expect(statuses).toEqual([401, 401, 401]);
    const limited = await fetch(`${server.apiUrl}/tasks`, { headers: { authorization: `Bearer ${await sign({ scope: 'logs:read' })}` } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await readJson(limited)).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    // A WebSocket from the same address: an error, then the close.
    await using ws = await connectClient(`${server.wsUrl}/t`, { headers: { authorization: `Bearer ${await sign({ scope: 'logs:read' })}` } });
    const closed = closeCodeOf(ws);
    expect(await ws.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect(await closed).toBe(4429);
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
  });

  it('holds a burst of guesses sent in parallel to the same N refusals', async () => {
    await using server = await startServer({ config: { auth: jwtMode, security: security({ authFailureLimit: 3, authFailureWindowMs: 60_000 }) } });
    const tokens = await Promise.all(Array.from({ length: 30 }, () => forged()));
    const statuses = await Promise.all(tokens.map(async (t) => (await fetch(`${server.apiUrl}/tasks`, { headers: { authorization: `Bearer ${t}` } })).status));
    console.log(`30 parallel forged tokens, limit 3: ${statuses.filter((s) => s === 401).length} x 401, ${statuses.filter((s) => s === 429).length} x 429`);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(27);
  });

  it('counts refused auth messages on one socket, and closes it once over the limit', async () => {
    await using server = await startServer({ config: { auth: jwtMode, security: security({ authFailureLimit: 3, authFailureWindowMs: 60_000 }) } });
    await using ws = await connectClient(`${server.wsUrl}/t`);
    const closed = closeCodeOf(ws);
    for (let i = 1; i <= 4; i++) {
      ws.send({ type: 'auth', token: await forged() });
      await ws.waitFor(() => ws.messages.filter((m) => m.type === 'error').length >= i);
    }
    expect(await closed).toBe(4429);
    const codes = ws.messages.flatMap((m) => (m.type === 'error' ? [m.code] : []));
    expect(codes.slice(0, 3)).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED']);
    expect(codes.at(-1)).toBe('RATE_LIMIT_EXCEEDED');
  });

  it('lets the address try again once the window has passed', async () => {
    await using server = await startServer({ config: { auth: jwtMode, security: security({ authFailureLimit: 1, authFailureWindowMs: 500 }) } });
    expect((await fetch(`${server.apiUrl}/tasks`, { headers: { authorization: `Bearer ${await forged()}` } })).status).toBe(401);
    const good = { authorization: `Bearer ${await sign({ scope: 'logs:read' })}` };
    expect((await fetch(`${server.apiUrl}/tasks`, { headers: good })).status).toBe(429);
    await sleep(700);
    expect((await fetch(`${server.apiUrl}/tasks`, { headers: good })).status).toBe(200);
  });
});

describe('the rate-limit bucket', () => {
  it('is the address in mode none, whatever Authorization header is sent', async () => {
    await using server = await startServer({ config: { security: security({ rateLimitPerMinute: 5 }) } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await fetch(`${server.apiUrl}/tasks`, { headers: { authorization: `Bearer made-up-${i}` } })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });
});

const haveRedis = await redisAnswers();
if (!haveRedis) warnRedisMissing('auth-limits');

describe.skipIf(!haveRedis)('two instances on one Redis bus', () => {
  const shared = (overrides: Partial<ServerConfig['security']>) => ({
    auth: jwtMode,
    busUrl: `${TEST_REDIS_URL}/?channelPrefix=auth-limits-${randomUUID()}:`,
    security: security(overrides),
  });

  it('share one requests-per-minute budget per credential', async () => {
    const config = shared({ rateLimitPerMinute: 4 });
    await using a = await startServer({ config });
    await using b = await startServer({ config });
    const headers = { authorization: `Bearer ${await sign({ scope: 'logs:read' })}` };
    const statuses: number[] = [];
    for (const server of [a, b, a, b, a, b]) statuses.push((await fetch(`${server.apiUrl}/tasks`, { headers })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('share the refused-credentials budget of an address', async () => {
    const config = shared({ authFailureLimit: 2, authFailureWindowMs: 60_000 });
    await using a = await startServer({ config });
    await using b = await startServer({ config });
    for (const server of [a, b]) {
      expect((await fetch(`${server.apiUrl}/tasks`, { headers: { authorization: `Bearer ${await forged()}` } })).status).toBe(401);
    }
    const good = { authorization: `Bearer ${await sign({ scope: 'logs:read' })}` };
    const burst = await Promise.all(
      [a, b, a, b].map(async (server) => (await fetch(`${server.apiUrl}/tasks`, { headers: { authorization: `Bearer ${await forged()}` } })).status),
    );
    expect(burst).toEqual([429, 429, 429, 429]);
    for (const server of [a, b]) {
      const limited = await fetch(`${server.apiUrl}/tasks`, { headers: good });
      expect(limited.status).toBe(429);
      expect(await readJson(limited)).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    }
  });
});

describe('the settings', () => {
  it('reads KERUTA_AUTH_FAILURE_LIMIT and KERUTA_AUTH_FAILURE_WINDOW_MS, and refuses a bad value naming it', () => {
    const loaded = loadConfig({ env: { KERUTA_AUTH_FAILURE_LIMIT: '7', KERUTA_AUTH_FAILURE_WINDOW_MS: '30000' } });
    expect(loaded.help === false && loaded.config.security).toMatchObject({ authFailureLimit: 7, authFailureWindowMs: 30_000 });
    expect(() => loadConfig({ env: { KERUTA_AUTH_FAILURE_LIMIT: 'many' } })).toThrow(/KERUTA_AUTH_FAILURE_LIMIT/);
    expect(defineConfig().security).toMatchObject({ authFailureLimit: 100, authFailureWindowMs: 60_000 });
  });
});
