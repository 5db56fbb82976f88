// createLogStore: which store a KERUTA_DATABASE_URL opens, and the errors for the ones it cannot.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@keruta/testing/base';
import { createLogStore, type LogStore } from '../src/index.js';
import { createTestDatabase } from './postgres-database.js';

const postgres = await createTestDatabase('createLogStore');
afterAll(async () => {
  await postgres?.drop();
});

describe('createLogStore', () => {
  let dir: TempDir;
  let opened: LogStore[];

  async function open(url: string): Promise<LogStore> {
    const store = await createLogStore(url);
    opened.push(store);
    return store;
  }

  beforeEach(async () => {
    dir = await makeTempDir('keruta-url-');
    opened = [];
  });

  afterEach(async () => {
    for (const store of opened) await store.close();
    await dir.remove();
  });

  it('opens SQLite at an absolute path for sqlite:/abs/path', async () => {
    const store = await open(`sqlite:${join(dir.path, 'keruta.db')}`);
    expect(store.kind).toBe('sqlite');
    expect(existsSync(join(dir.path, 'keruta.db'))).toBe(true);
  });

  it('opens SQLite relative to the working directory for sqlite:./path', async () => {
    await open(`sqlite:./${relative(process.cwd(), join(dir.path, 'data', 'keruta.db'))}`);
    expect(existsSync(join(dir.path, 'data', 'keruta.db'))).toBe(true);
  });

  it('reads sqlite:///abs/path like sqlite:/abs/path', async () => {
    await open(`sqlite://${join(dir.path, 'keruta.db')}`);
    expect(existsSync(join(dir.path, 'keruta.db'))).toBe(true);
  });

  it('opens SQLite in memory for sqlite::memory:', async () => {
    const store = await open('sqlite::memory:');
    await store.append('build-1', [
      { source: 'stdout', level: 'INFO', message: 'hi', metadata: {}, timeMs: 0, timestamp: new Date(0).toISOString() },
    ]);
    expect(await store.lastSeq('build-1')).toBe(1);
  });

  it.skipIf(postgres === undefined)('opens PostgreSQL for postgres:// and postgresql://', async () => {
    const url = postgres?.url ?? '';
    const store = await open(url);
    expect(store.kind).toBe('postgres');
    await store.append('build-1', [
      { source: 'stdout', level: 'INFO', message: 'hi', metadata: {}, timeMs: 0, timestamp: new Date(0).toISOString() },
    ]);
    const again = await open(url.replace(/^postgres:/, 'postgresql:'));
    expect(await again.lastSeq('build-1')).toBe(1);
  });

  it('fails with DATABASE_ERROR, without the password, when PostgreSQL cannot be reached', async () => {
    // Port 1: nothing listens there, so the connection is refused at once.
    const error = await createLogStore('postgres://keruta:hunter2@127.0.0.1:1/keruta').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'DATABASE_ERROR', message: expect.stringMatching(/ECONNREFUSED/) });
    expect(error?.message).not.toMatch(/hunter2/);
  });

  it.skipIf(postgres === undefined)('fails with DATABASE_ERROR, without the password, for a database that does not exist', async () => {
    const url = new URL(postgres?.url ?? 'postgres://127.0.0.1/');
    url.password = 'hunter2';
    url.pathname = '/keruta_no_such_database';
    const error = await createLogStore(url.toString()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'DATABASE_ERROR' });
    expect(error?.message).not.toMatch(/hunter2|keruta_no_such_database/);
  });

  it('names KERUTA_DATABASE_URL for an unknown scheme, without echoing its credentials', async () => {
    const error = await createLogStore('mysql://root:hunter2@db/keruta').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'DATABASE_ERROR', message: expect.stringMatching(/KERUTA_DATABASE_URL/) });
    expect(error?.message).not.toMatch(/hunter2/);
    await expect(createLogStore('keruta.db')).rejects.toMatchObject({ message: expect.stringMatching(/KERUTA_DATABASE_URL/) });
  });

  it('refuses sqlite: without a path', async () => {
    await expect(createLogStore('sqlite:')).rejects.toMatchObject({ message: expect.stringMatching(/KERUTA_DATABASE_URL/) });
  });
});
