// Revocation and expiry reach connections already open: a revoked API key's sockets are closed
// with UNAUTHORIZED (4401) soon after the keys file changes, and a JWT's when its `exp` passes.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, writeApiKeysFile, type StoredApiKey } from 'keruta-api';
import { connectClient, makeTempDir, readJson, startServer, type RecordingClient, type TempDir, type TestServer } from '@keruta/testing';
import { sleep, waitUntil } from '@keruta/testing/base';

/** The target is 2 s; the bound is loose for a loaded machine and still fails a server that never closes. */
const CLOSE_BOUND_MS = 5000;

const CLI = fileURLToPath(new URL('../bin/keruta-api.js', import.meta.url));

const line = (message: string) => ({ source: 'stdout', level: 'INFO', message });

/** Sends an `auth` message and waits until the connection answers as an authenticated one. */
async function authenticate(client: RecordingClient, token: string): Promise<void> {
  client.send({ type: 'auth', token });
  for (let i = 0; i < 100 && !client.messages.some((m) => m.type === 'pong'); i++) {
    client.send({ type: 'ping' });
    await sleep(50);
  }
  await client.waitFor((m) => m.type === 'pong');
}

function closeOf(client: RecordingClient): Promise<{ code: number; at: number }> {
  return new Promise((resolve) => client.ws.once('close', (code) => resolve({ code, at: Date.now() })));
}

describe('an API key revoked while its connections are open', () => {
  let dir: TempDir;
  let file: string;
  let server: TestServer;
  let keep: { key: string; stored: StoredApiKey };
  let doomed: { key: string; stored: StoredApiKey };
  beforeEach(async () => {
    dir = await makeTempDir();
    file = join(dir.path, 'keys.yaml');
    keep = createApiKey({ scopes: ['logs:read', 'logs:write'] });
    doomed = createApiKey({ scopes: ['logs:read', 'logs:write'] });
    writeApiKeysFile(file, [keep.stored, doomed.stored]);
    server = await startServer({ config: { auth: { mode: 'apikey', apiKeysFile: file } } });
  });
  afterEach(async () => {
    await server.close();
    await dir.remove();
  });

  it('closes with UNAUTHORIZED within 2 s when the API key is revoked (keruta-api keys revoke), for a reader (header) and a writer (auth message)', async () => {
    await using reader = await connectClient(`${server.wsUrl}/job-1`, { headers: { 'x-api-key': doomed.key } });
    reader.send({ type: 'subscribe' });
    await reader.waitFor((m) => m.type === 'subscribed');
    await using writer = await connectClient(`${server.wsUrl}/job-1`);
    await authenticate(writer, doomed.key);
    writer.send({ type: 'logs', batchId: 'before', entries: [line('before the revoke')] });
    await writer.waitFor((m) => m.type === 'ack' && m.batchId === 'before');
    await reader.waitForEntries(1);
    const readerClosed = closeOf(reader);
    const writerClosed = closeOf(writer);

    await promisify(execFile)(process.execPath, [CLI, 'keys', 'revoke', doomed.stored.id, '--file', file]);
    const revokedAt = Date.now();
    const [readerClose, writerClose] = await Promise.all([readerClosed, writerClosed]);

    const readerMs = readerClose.at - revokedAt;
    const writerMs = writerClose.at - revokedAt;
    console.log(`revoke -> close: reader ${readerMs} ms, writer ${writerMs} ms (target 2000 ms)`);
    expect(readerClose.code).toBe(4401);
    expect(writerClose.code).toBe(4401);
    expect(reader.messages.at(-1)).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' });
    expect(writer.messages.at(-1)).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' });
    expect(readerMs).toBeLessThanOrEqual(CLOSE_BOUND_MS);
    expect(writerMs).toBeLessThanOrEqual(CLOSE_BOUND_MS);
  }, 20_000);

  it('refuses new REST requests and connections with the revoked key at once, and keeps serving the others', async () => {
    const headers = { 'x-api-key': doomed.key };
    expect((await fetch(`${server.apiUrl}/tasks`, { headers })).status).toBe(200);
    writeApiKeysFile(file, [keep.stored]);
    const refused = await fetch(`${server.apiUrl}/tasks`, { headers });
    expect(refused.status).toBe(401);
    expect(await readJson(refused)).toMatchObject({ code: 'UNAUTHORIZED' });
    await using late = await connectClient(`${server.wsUrl}/job-1`, { headers });
    expect(await late.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await fetch(`${server.apiUrl}/tasks`, { headers: { 'x-api-key': keep.key } })).status).toBe(200);
  });

  it('leaves the connections of keys still in the file open', async () => {
    await using kept = await connectClient(`${server.wsUrl}/job-1`, { headers: { 'x-api-key': keep.key } });
    await using gone = await connectClient(`${server.wsUrl}/job-1`, { headers: { 'x-api-key': doomed.key } });
    kept.send({ type: 'subscribe' });
    await kept.waitFor((m) => m.type === 'subscribed');
    const goneClosed = closeOf(gone);
    writeApiKeysFile(file, [keep.stored]);
    expect((await goneClosed).code).toBe(4401);
    await fetch(`${server.apiUrl}/tasks/job-1/logs`, { method: 'POST', headers: { 'x-api-key': keep.key }, body: JSON.stringify(line('after')) });
    await kept.waitForEntries(1);
    expect(kept.ws.readyState).toBe(kept.ws.OPEN);
  }, 20_000);

  it('closes a subscription with FORBIDDEN when its key is narrowed to other tasks', async () => {
    await using reader = await connectClient(`${server.wsUrl}/job-1`, { headers: { 'x-api-key': doomed.key } });
    reader.send({ type: 'subscribe' });
    await reader.waitFor((m) => m.type === 'subscribed');
    const closed = closeOf(reader);
    writeApiKeysFile(file, [keep.stored, { ...doomed.stored, tasks: ['other-*'] }]);
    expect((await closed).code).toBe(4403);
    expect(reader.messages.at(-1)).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
  }, 20_000);

  it('on a reload leaves out only a bad entry, and keeps the keys read last when the file does not parse', async () => {
    const text = await readFile(file, 'utf8');
    // `doomed` gets a string for `tasks`: it must stop working, never widen to every task.
    await writeFile(file, text.replace(`id: ${doomed.stored.id}`, `id: ${doomed.stored.id}\n    tasks: "job-*"`));
    // The file is looked at every 250 ms: within a few seconds on a loaded machine.
    const status = async () => (await fetch(`${server.apiUrl}/tasks`, { headers: { 'x-api-key': doomed.key } })).status;
    await waitUntil(async () => (await status()) === 401, 'the key refused', 5000);
    expect(await status()).toBe(401);
    expect((await fetch(`${server.apiUrl}/tasks`, { headers: { 'x-api-key': keep.key } })).status).toBe(200);
    await writeFile(file, 'keys: [ {id: "half-writ');
    expect((await fetch(`${server.apiUrl}/tasks`, { headers: { 'x-api-key': keep.key } })).status).toBe(200);
  });
});

describe('a JWT that expires while its connection is open', () => {
  const SECRET = 'revocation-secret-of-32-chars!!!';
  it('closes with UNAUTHORIZED within 2 s of the exp claim, for a token sent in an auth message', async () => {
    await using server = await startServer({ config: { auth: { mode: 'jwt', jwtSecret: SECRET } } });
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = await new SignJWT({ scope: 'logs:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(SECRET));
    await using client = await connectClient(`${server.wsUrl}/job-1`);
    await authenticate(client, token);
    client.send({ type: 'subscribe' });
    await client.waitFor((m) => m.type === 'subscribed');
    const { code, at } = await closeOf(client);
    console.log(`exp -> close: ${at - exp * 1000} ms (target 2000 ms)`);
    expect(code).toBe(4401);
    expect(at - exp * 1000).toBeLessThanOrEqual(CLOSE_BOUND_MS);
  }, 20_000);
});
