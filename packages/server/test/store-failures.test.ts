// A store that answers but cannot write: /health must say so and every failure must be logged;
// a SQLite file whose -shm cannot be written must give a clear error, never a SIGBUS.
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { makeTempDir, readJson, spawnServer, waitUntil, type SpawnedServer } from '@keruta/testing';

const line = (message: string) => JSON.stringify({ source: 'stdout', level: 'INFO', message });

async function post(server: SpawnedServer, taskId: string, message: string): Promise<{ status: number; code?: string }> {
  const response = await fetch(`${server.apiUrl}/tasks/${taskId}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: line(message),
  });
  const body = await readJson(response);
  return { status: response.status, code: body.code };
}

async function health(server: SpawnedServer): Promise<{ status: number; body: { status: string; checks: Record<string, { status: string; message?: string }> } }> {
  const response = await fetch(`${server.baseUrl}/health`);
  return { status: response.status, body: await readJson(response) };
}

describe('a store that answers pings but stores nothing', () => {
  it('turns /health unhealthy while every write fails, logs each failure, and healthy again once a write is stored', async () => {
    await using server = await spawnServer();
    expect((await post(server, 'full', 'before')).status).toBe(201);
    // As a full disk would: every insert fails inside the database, reads and pings still work.
    const db = new Database(join(server.dataDir, 'keruta.db'));
    db.exec(`CREATE TRIGGER disk_full BEFORE INSERT ON logs BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    for (let i = 0; i < 3; i += 1) expect(await post(server, 'full', `lost ${i}`)).toEqual({ status: 500, code: 'DATABASE_ERROR' });

    const down = await health(server);
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'unhealthy', checks: { store: { status: 'up' }, writes: { status: 'down' } } });
    expect(down.body.checks.writes?.message).toMatch(/^the last 3 writes failed, since .*: the log store could not store the entries/);
    // Each failure is logged before its answer is sent, but reaches this process through a pipe.
    const loggedFailures = (): string[] => server.stderr.split('\n').filter((l) => l.includes('could not store entries'));
    await waitUntil(() => loggedFailures().length >= 3, 'three failures logged', 5_000);
    const logged = loggedFailures();
    expect(logged).toHaveLength(3);
    expect(JSON.parse(logged[0] as string)).toMatchObject({ level: 50, taskId: 'full', path: 'rest', entries: 1 });

    db.exec('DROP TRIGGER disk_full');
    db.close();
    expect((await post(server, 'full', 'after')).status).toBe(201);
    expect(await health(server)).toMatchObject({ status: 200, body: { status: 'healthy', checks: { writes: { status: 'up' } } } });
  });
});

/**
 * Makes `file` impossible to write for this process: immutable (chattr +i) as root, whom file
 * modes do not stop, read-only otherwise. Returns the undo, or why it cannot be done here.
 */
function lockFile(file: string): { undo: () => void } | { unavailable: string } {
  if (process.getuid?.() !== 0) {
    chmodSync(file, 0o444);
    return { undo: () => chmodSync(file, 0o644) };
  }
  const locked = spawnSync('chattr', ['+i', file], { encoding: 'utf8' });
  if (locked.status !== 0) return { unavailable: `chattr +i: ${locked.error?.message ?? locked.stderr.trim()}` };
  return { undo: () => spawnSync('chattr', ['-i', file]) };
}

describe('a SQLite -shm file that cannot be written', () => {
  it('stops keruta-api at start with an error naming the file, not a SIGBUS on the first write', async (context) => {
    const temp = await makeTempDir('keruta-shm-');
    const server = await spawnServer({ dataDir: temp.path });
    expect((await post(server, 'shm', 'first')).status).toBe(201);
    // Killed, so that the -wal and -shm stay as a crashed server leaves them.
    await server.kill('SIGKILL');
    const shm = join(temp.path, 'keruta.db-shm');
    const lock = lockFile(shm);
    if ('unavailable' in lock) {
      await temp.remove();
      context.skip(lock.unavailable);
      return;
    }
    try {
      await expect(server.restart()).rejects.toThrow(/exited with 1 before listening/);
      expect(server.stderr).toContain(`the log store cannot write ${shm} (${process.getuid?.() === 0 ? 'EPERM' : 'EACCES'})`);
    } finally {
      lock.undo();
    }
    await server.restart();
    expect((await post(server, 'shm', 'second')).status).toBe(201);
    await server.stop();
    await temp.remove();
  });
});
