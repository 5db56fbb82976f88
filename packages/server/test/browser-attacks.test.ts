/// <reference lib="dom" />
// What a web page on another site can do to a keruta-api the user runs on their own machine:
// real Chromium opens an attacker's page, served by a second HTTP server on another port (another
// origin), that tries to read a task's logs over the WebSocket and to forge its `exited 0` with a
// no-cors text/plain POST; raw requests with `Host: attacker.example` stand for DNS rebinding.
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineConfig } from 'keruta-api';
import { CHROMIUM, CHROMIUM_ARGS, makeTempDir, readJson, startServer, type TempDir, type TestServer } from '@keruta/testing';

const SECRET_LINE = 'DB_PASSWORD=hunter2';
const JWT_SECRET = 'browser-attack-secret-32-chars!!';
const token = (scope: string) =>
  new SignJWT({ scope }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(JWT_SECRET));

/** The attacker's page: the target port comes in the query string, what it got goes to `window.report`. */
/** A site on the Internet, as far as the browser can tell. */
const ATTACKER_HOST = 'attacker.example';

const ATTACK_PAGE = `<!DOCTYPE html><html><body><script>
const port = new URLSearchParams(location.search).get('port');
const report = (window.report = { wsOpened: false, wsClosed: false, frames: [], post: 'pending' });
const ws = new WebSocket('ws://127.0.0.1:' + port + '/ws/tasks/deploy');
ws.onopen = () => {
  report.wsOpened = true;
  ws.send(JSON.stringify({ type: 'subscribe', taskId: 'deploy', options: { since: 0, realtime: true } }));
};
ws.onmessage = (event) => report.frames.push(event.data);
ws.onclose = () => { report.wsClosed = true; };
fetch('http://127.0.0.1:' + port + '/api/v1/tasks/deploy/logs', {
  method: 'POST',
  mode: 'no-cors',
  headers: { 'Content-Type': 'text/plain' },
  body: JSON.stringify({ source: 'agent', level: 'INFO', message: 'exited with code 0', metadata: { event: 'exited', exitCode: 0 } }),
}).then(() => { report.post = 'answered'; }, (error) => { report.post = 'failed: ' + error; });
</script></body></html>`;

interface AttackReport {
  wsOpened: boolean;
  wsClosed: boolean;
  frames: string[];
  post: string;
}

/** One raw HTTP/1.1 exchange: writes `request` as is and returns all the server sends until it closes. */
async function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      // A served request is kept alive: one complete answer is enough.
      if (/\r\n\r\n/.test(answer) && /^HTTP\/1\.1 (?:101|200)/.test(answer)) socket.destroy();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer within 10 s to ${request.split('\r\n')[0]}`)));
    socket.write(request);
  });
}

const upgradeRequest = (host: string, origin?: string) =>
  'GET /ws/tasks/deploy HTTP/1.1\r\n' +
  `Host: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
  (origin === undefined ? '' : `Origin: ${origin}\r\n`) +
  '\r\n';

/** The JSON body of a raw answer. */
const bodyOf = (answer: string): unknown => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

async function seedSecret(server: TestServer, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${server.apiUrl}/tasks/deploy/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify([
      { source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } },
      { source: 'stdout', level: 'INFO', message: SECRET_LINE },
    ]),
  });
  expect(response.status).toBe(201);
}

describe('a page on another origin, in real Chromium, against auth mode none', () => {
  let profile: TempDir;
  let context: BrowserContext;
  let attacker: Server;
  let attackerOrigin: string;

  beforeAll(async () => {
    profile = await makeTempDir('keruta-attack-chromium-');
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM,
      headless: true,
      // The attacker's site, another origin than any of this machine's, served from 127.0.0.1.
      args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${ATTACKER_HOST} 127.0.0.1`],
    });
    attacker = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(ATTACK_PAGE);
    });
    await new Promise<void>((done) => attacker.listen(0, '127.0.0.1', done));
    const address = attacker.address();
    attackerOrigin = `http://${ATTACKER_HOST}:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(async () => {
    await context?.close();
    await profile?.remove();
    attacker?.closeAllConnections();
    await new Promise((done) => attacker?.close(done));
  });

  /** Opens the attacker's page against `server` and waits until its socket closed or read the secret, and its POST was answered. */
  async function attack(server: TestServer): Promise<AttackReport> {
    const page = await context.newPage();
    try {
      await page.goto(`${attackerOrigin}/?port=${server.port}`);
      await page.waitForFunction(
        (secret) => {
          const report = (window as unknown as { report?: AttackReport }).report;
          if (report === undefined || report.post === 'pending') return false;
          return report.wsClosed || report.frames.some((frame) => frame.includes(secret));
        },
        SECRET_LINE,
        { timeout: 15_000 },
      );
      return await page.evaluate(() => (window as unknown as { report: AttackReport }).report);
    } finally {
      await page.close();
    }
  }

  it("cannot read a task's logs over the WebSocket, nor forge its `exited 0` with a no-cors text/plain POST", async () => {
    await using server = await startServer();
    await seedSecret(server);
    const report = await attack(server);
    console.log(`attack page from ${attackerOrigin}: ws opened=${report.wsOpened}, frames=${report.frames.length}, post=${report.post}`);
    expect(report.frames.join('\n')).not.toContain(SECRET_LINE);
    expect(report.wsOpened).toBe(false);
    expect(report.wsClosed).toBe(true);

    const task = await readJson(fetch(`${server.apiUrl}/tasks/deploy`));
    expect(task).toMatchObject({ status: 'running', totalLogs: 2 });
    expect(task.exitCode).toBeUndefined();
  });

  it('reads the logs from an origin listed in KERUTA_ALLOWED_ORIGINS (the same page, so the attack above is real)', async () => {
    await using server = await startServer({ config: { security: { ...defineConfig().security, allowedOrigins: [attackerOrigin] } } });
    await seedSecret(server);
    const report = await attack(server);
    expect(report.wsOpened).toBe(true);
    expect(report.frames.join('\n')).toContain(SECRET_LINE);
    // Even an allowed page cannot post what is not JSON without authentication.
    const task = await readJson(fetch(`${server.apiUrl}/tasks/deploy`));
    expect(task).toMatchObject({ status: 'running', totalLogs: 2 });
  });
});

describe('DNS rebinding: a Host that is not loopback, in auth mode none', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ config: { security: { ...defineConfig().security, allowedHosts: ['keruta.internal'] } } });
    await seedSecret(server);
  });
  afterAll(async () => server?.close());

  it('answers 403 FORBIDDEN to `Host: attacker.example` on REST, and on a WebSocket upgrade', async () => {
    for (const host of ['attacker.example', `attacker.example:${server.port}`, 'keruta.internal.attacker.example']) {
      const rest = await rawExchange(server.port, `GET /api/v1/tasks/deploy/logs HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(rest).toMatch(/^HTTP\/1\.1 403/);
      expect(rest).not.toContain(SECRET_LINE);
      expect(bodyOf(rest)).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('KERUTA_ALLOWED_HOSTS') });

      const upgrade = await rawExchange(server.port, upgradeRequest(host));
      expect(upgrade).toMatch(/^HTTP\/1\.1 403/);
      expect(bodyOf(upgrade)).toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it('serves 127.0.0.1, localhost and [::1] with any port, and a Host listed in KERUTA_ALLOWED_HOSTS', async () => {
    for (const host of [`127.0.0.1:${server.port}`, 'localhost', `localhost:${server.port}`, '[::1]:9999', 'keruta.internal', 'keruta.internal:8080']) {
      const rest = await rawExchange(server.port, `GET /api/v1/tasks/deploy/logs HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expect(rest, host).toMatch(/^HTTP\/1\.1 200/);
      expect(await rawExchange(server.port, upgradeRequest(host)), host).toMatch(/^HTTP\/1\.1 101/);
    }
  });

  it("refuses a WebSocket upgrade from another Origin with 403 FORBIDDEN, and takes the server's own or none", async () => {
    const refused = await rawExchange(server.port, upgradeRequest(`127.0.0.1:${server.port}`, 'https://attacker.example'));
    expect(refused).toMatch(/^HTTP\/1\.1 403/);
    expect(bodyOf(refused)).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('KERUTA_ALLOWED_ORIGINS') });
    expect(await rawExchange(server.port, upgradeRequest(`127.0.0.1:${server.port}`, 'null'))).toMatch(/^HTTP\/1\.1 403/);
    expect(await rawExchange(server.port, upgradeRequest(`127.0.0.1:${server.port}`, server.baseUrl))).toMatch(/^HTTP\/1\.1 101/);
    expect(await rawExchange(server.port, upgradeRequest(`127.0.0.1:${server.port}`))).toMatch(/^HTTP\/1\.1 101/);
    // A page served from this machine (a dev server with the usage guide's log component) is let in.
    for (const local of ['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8000']) {
      expect(await rawExchange(server.port, upgradeRequest(`127.0.0.1:${server.port}`, local)), local).toMatch(/^HTTP\/1\.1 101/);
    }
    // Only http(s) origins of this machine: not a look-alike name.
    expect(await rawExchange(server.port, upgradeRequest(`127.0.0.1:${server.port}`, 'http://localhost.attacker.example'))).toMatch(/^HTTP\/1\.1 403/);
  });
});

describe('bodies and cross-origin writes', () => {
  it('answers 415 INVALID_LOG_FORMAT naming Content-Type to a text/plain or form body in auth mode none, storing nothing', async () => {
    await using server = await startServer();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
      const response = await fetch(`${server.apiUrl}/tasks/forms/logs`, {
        method: 'POST',
        headers: type === undefined ? {} : { 'content-type': type },
        body: new TextEncoder().encode(JSON.stringify({ source: 'stdout', level: 'INFO', message: 'hi' })),
      });
      expect(response.status, String(type)).toBe(415);
      expect(await readJson(response)).toMatchObject({ code: 'INVALID_LOG_FORMAT', message: expect.stringContaining('Content-Type') });
    }
    const json = await fetch(`${server.apiUrl}/tasks/forms/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ source: 'stdout', level: 'INFO', message: 'hi' }),
    });
    expect(json.status).toBe(201);
    expect(await readJson(fetch(`${server.apiUrl}/tasks/forms`))).toMatchObject({ totalLogs: 1 });
  });

  it('refuses a cross-origin POST or DELETE without a credential header with 403 FORBIDDEN in every mode, and serves one with it', async () => {
    await using none = await startServer();
    await using jwt = await startServer({ config: { auth: { mode: 'jwt', jwtSecret: JWT_SECRET } } });
    const writeHeaders = { authorization: `Bearer ${await token('logs:write logs:read logs:delete')}` };
    await seedSecret(none);
    await seedSecret(jwt, writeHeaders);
    const line = JSON.stringify({ source: 'stdout', level: 'INFO', message: 'from elsewhere' });
    for (const server of [none, jwt]) {
      const credential = server === jwt ? writeHeaders : {};
      for (const method of ['POST', 'DELETE']) {
        const refused = await fetch(`${server.apiUrl}/tasks/deploy/logs`, {
          method,
          headers: { origin: 'https://attacker.example', 'content-type': 'application/json' },
          ...(method === 'POST' ? { body: line } : {}),
        });
        expect(refused.status, `${method} ${server.server.config.auth.mode}`).toBe(403);
        expect(await readJson(refused)).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('KERUTA_ALLOWED_ORIGINS') });
      }
      expect(await readJson(fetch(`${server.apiUrl}/tasks/deploy`, { headers: credential }))).toMatchObject({ totalLogs: 2 });
    }
    // A header a no-cors page cannot set: a client of its own, served as usual.
    const posted = await fetch(`${jwt.apiUrl}/tasks/deploy/logs`, {
      method: 'POST',
      headers: { ...writeHeaders, origin: 'https://attacker.example', 'content-type': 'application/json' },
      body: line,
    });
    expect(posted.status).toBe(201);
    const own = await fetch(`${none.apiUrl}/tasks/deploy/logs`, { method: 'POST', headers: { origin: none.baseUrl, 'content-type': 'application/json' }, body: line });
    expect(own.status).toBe(201);
  });
});
