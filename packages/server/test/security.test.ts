// Rate limits, TLS and secrets: what a hostile or careless client meets.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineConfig } from 'keruta-api';
import { connectClient, makeTempDir, readJson, spawnServer, startServer } from '@keruta/testing';

const SECRET = 'security-secret-of-32-characters';
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

describe('rate limits', () => {
  it('answers RATE_LIMIT_EXCEEDED with Retry-After once a client passes its requests per minute', async () => {
    await using server = await startServer({ config: { security: { ...defineConfig().security, rateLimitPerMinute: 5 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${server.apiUrl}/tasks`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await fetch(`${server.apiUrl}/tasks`);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await readJson(limited)).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
  });

  it('slows a WebSocket writer over its messages per second down, storing every batch in order, and refuses other messages over it', async () => {
    await using server = await startServer({ config: { security: { ...defineConfig().security, wsMessagesPerSecond: 4 } } });
    await using agent = await connectClient(`${server.wsUrl}/limited`);
    const started = Date.now();
    for (let i = 1; i <= 10; i++) {
      agent.send({ type: 'logs', batchId: `b${i}`, entries: [{ source: 'stdout', level: 'INFO', message: `m${i}`, runId: 'r', runSeq: i }] });
    }
    await agent.waitFor((m) => m.type === 'ack' && m.batchId === 'b10', 20_000);
    // 4 at once, then 4 a second: the last of 10 is stored after about 1.5 s.
    expect(Date.now() - started).toBeGreaterThan(1200);
    expect(agent.messages.filter((m) => m.type === 'error')).toEqual([]);
    const stored = await readJson(fetch(`${server.apiUrl}/tasks/limited/logs`));
    expect(stored.content.map((e: { message: string }) => e.message)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
    for (let i = 0; i < 10; i++) agent.send({ type: 'ping' });
    expect(await agent.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
  });

  it('limits the connections of one credential', async () => {
    await using server = await startServer({
      config: { auth: { mode: 'jwt', jwtSecret: SECRET }, security: { ...defineConfig().security, maxConnectionsPerCredential: 2 } },
    });
    const headers = { authorization: `Bearer ${await token({ scope: 'logs:read' })}` };
    await using a = await connectClient(`${server.wsUrl}/t`, { headers });
    await using b = await connectClient(`${server.wsUrl}/t`, { headers });
    await using c = await connectClient(`${server.wsUrl}/t`, { headers });
    expect(await c.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' });
    a.send({ type: 'ping' });
    b.send({ type: 'ping' });
    await a.waitFor((m) => m.type === 'pong');
    await b.waitFor((m) => m.type === 'pong');
  });
});

describe('secrets', () => {
  it('never writes the JWT secret, a token or an API key to the server log, even at debug level', async () => {
    await using server = await spawnServer({
      args: ['--auth-mode', 'jwt', '--log-level', 'debug'],
      env: { KERUTA_JWT_SECRET: SECRET },
    });
    const good = await token({ scope: 'logs:read logs:write' });
    const bad = `${good.slice(0, -4)}AAAA`;
    await fetch(`${server.apiUrl}/tasks/s/logs`, { method: 'POST', headers: { authorization: `Bearer ${good}` }, body: '{"source":"stdout","level":"INFO","message":"x"}' });
    await fetch(`${server.apiUrl}/tasks/s/logs`, { headers: { authorization: `Bearer ${bad}` } });
    await fetch(`${server.apiUrl}/tasks/s/logs?token=${good}`);
    const ws = new WebSocket(`${server.wsUrl}/s?token=${bad}`);
    await new Promise((resolve) => ws.once('close', resolve).once('error', resolve));
    await server.kill('SIGTERM');
    expect(server.stderr.length).toBeGreaterThan(0);
    for (const secret of [SECRET, good, bad, good.split('.')[2] ?? 'x']) expect(server.stderr).not.toContain(secret);
  });
});

describe('TLS', () => {
  it('serves https:// and wss:// with --tls-cert and --tls-key', async () => {
    await using dir = await makeTempDir();
    const cert = join(dir.path, 'cert.pem');
    const key = join(dir.path, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    await using server = await spawnServer({ args: ['--tls-cert', cert, '--tls-key', key] });
    const ca = await readFile(cert);
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) =>
      request(`https://127.0.0.1:${server.port}/health`, { ca, servername: '127.0.0.1', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end(),
    );
    expect(status).toBe(200);
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/ws/tasks/secure`, { rejectUnauthorized: false });
    const pong = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('{"type":"ping"}'));
      ws.on('message', (data) => resolve(JSON.parse(data.toString()).type));
      ws.once('error', reject);
    });
    expect(pong).toBe('pong');
    ws.close();
  });
});
