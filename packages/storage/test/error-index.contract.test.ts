// The error index's part of the LogStore contract, run against every store: kept by append as
// lines arrive, read for a summary, and filled by the migration from lines stored before it.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@keruta/testing/base';
import type { LogRequest, NormalizedLogRequest } from '@keruta/protocol';
import { createPostgresLogStore, createSqliteLogStore, type ErrorIndexQuery, type LogStore } from '../src/index.js';
import { createTestDatabase, schemaOfDir } from './postgres-database.js';

const postgres = await createTestDatabase('the error index contract');
afterAll(async () => {
  await postgres?.drop();
});

interface StoreUnderTest {
  name: string;
  unavailable?: string;
  create(dir: string): LogStore | Promise<LogStore>;
  /** Takes the database back to before the error index (schema version 3), keeping the lines. */
  forgetErrorIndex(dir: string): void | Promise<void>;
}

const STORES: StoreUnderTest[] = [
  {
    name: 'sqlite',
    create: (dir) => createSqliteLogStore({ path: join(dir, 'keruta.db') }),
    forgetErrorIndex(dir) {
      const db = new Database(join(dir, 'keruta.db'));
      try {
        db.exec('DROP TABLE task_errors; DROP TABLE task_groups; PRAGMA user_version = 3;');
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'postgres',
    ...(postgres === undefined ? { unavailable: 'no PostgreSQL server' } : {}),
    async create(dir) {
      if (postgres === undefined) throw new Error('PostgreSQL is not reachable');
      return createPostgresLogStore({ url: await postgres.urlInSchema(schemaOfDir(dir)), maxConnections: 4 });
    },
    async forgetErrorIndex(dir) {
      if (postgres === undefined) throw new Error('PostgreSQL is not reachable');
      const schema = schemaOfDir(dir);
      await postgres.query(`DROP TABLE ${schema}.task_errors; DROP TABLE ${schema}.task_groups; DELETE FROM ${schema}.keruta_schema WHERE version = 4`);
    },
  },
];

const T0 = Date.parse('2024-05-01T10:00:00.000Z');

/** A line `i` ms after T0, as the server hands it to the store. */
function line(i: number, message: string, fields: Partial<LogRequest> = {}): NormalizedLogRequest {
  const timeMs = T0 + i;
  return { source: 'stdout', level: 'INFO', message, metadata: {}, ...fields, timeMs, timestamp: new Date(timeMs).toISOString() };
}

function query(taskId: string, fields: Partial<ErrorIndexQuery> = {}): ErrorIndexQuery {
  return { taskId, errorsAfter: 0, groupsAfter: 0, limit: 100, ...fields };
}

/** A build log: a passing section, a failing one, an error outside sections, an open section. */
function buildLog(): NormalizedLogRequest[][] {
  return [
    [line(0, 'starting'), line(10, '::group::Install'), line(20, 'npm ci'), line(1010, '::endgroup::')],
    [line(1020, '::group::Test'), line(1030, 'FAIL src/a.test.ts', { level: 'ERROR' }), line(1040, 'more output')],
    [line(1050, '::error file=src/a.test.ts,line=3::expected 1, got 2'), line(1520, '::endgroup:: ')],
    [line(1530, 'exit code 1', { level: 'ERROR', source: 'stderr' }), line(1540, '::group::Upload'), line(1600, 'uploading')],
  ];
}

async function appendAll(store: LogStore, taskId: string, batches: NormalizedLogRequest[][]): Promise<void> {
  for (const batch of batches) await store.append(taskId, batch);
}

for (const storeUnderTest of STORES) {
  describe.skipIf(storeUnderTest.unavailable !== undefined)(`error index contract: ${storeUnderTest.name}`, () => {
    let dir: TempDir;
    let opened: LogStore[];

    async function open(): Promise<LogStore> {
      const store = await storeUnderTest.create(dir.path);
      opened.push(store);
      return store;
    }

    beforeEach(async () => {
      dir = await makeTempDir('keruta-error-index-');
      opened = [];
    });

    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
      await dir.remove();
    });

    it('is undefined for an unknown task', async () => {
      const store = await open();
      expect(await store.errorIndex(query('nobody'))).toBeUndefined();
    });

    it('indexes error lines, annotations and sections as batches arrive', async () => {
      const store = await open();
      await appendAll(store, 'build-1', buildLog());
      const index = await store.errorIndex(query('build-1'));
      expect(index?.lastSeq).toBe(12);
      expect(index?.counts).toEqual({ errors: 2, annotations: 1, groups: 3, failedGroups: 1 });
      expect(index?.first).toEqual({ seq: 6, kind: 'error', groupSeq: 5 });
      expect(index?.errors).toEqual([
        { seq: 6, kind: 'error', groupSeq: 5 },
        { seq: 8, kind: 'annotation', groupSeq: 5 },
        { seq: 10, kind: 'error' },
      ]);
      expect(index?.nextErrorsAfter).toBeNull();
      expect(index?.groups).toEqual([
        { name: 'Install', startSeq: 2, endSeq: 4, status: 'succeeded', startedAt: '2024-05-01T10:00:00.010Z', endedAt: '2024-05-01T10:00:01.010Z', durationMs: 1000, errorCount: 0 },
        { name: 'Test', startSeq: 5, endSeq: 9, status: 'failed', startedAt: '2024-05-01T10:00:01.020Z', endedAt: '2024-05-01T10:00:01.520Z', durationMs: 500, errorCount: 2 },
        // Open: its duration runs to the task's latest line.
        { name: 'Upload', startSeq: 11, status: 'open', startedAt: '2024-05-01T10:00:01.540Z', durationMs: 60, errorCount: 0 },
      ]);
    });

    it('closes an open section at the next ::group:: line, across batches', async () => {
      const store = await open();
      await store.append('t', [line(0, '::group::One'), line(5, 'x', { level: 'ERROR' })]);
      await store.append('t', [line(40, '::group::Two')]);
      const index = await store.errorIndex(query('t'));
      expect(index?.groups.map((g) => [g.name, g.startSeq, g.endSeq, g.status, g.durationMs])).toEqual([
        ['One', 1, 2, 'failed', 40],
        ['Two', 3, undefined, 'open', 0],
      ]);
    });

    it('does not index a resent batch twice', async () => {
      const store = await open();
      const batch = [line(0, 'boom', { level: 'ERROR', runId: 'r1', runSeq: 1 })];
      await store.append('t', batch);
      await store.append('t', batch);
      expect((await store.errorIndex(query('t')))?.counts.errors).toBe(1);
    });

    it('pages errors and sections with their own cursors', async () => {
      const store = await open();
      const batch: NormalizedLogRequest[] = [];
      for (let i = 0; i < 25; i += 1) batch.push(line(i * 3, `::group::G${i}`), line(i * 3 + 1, `e${i}`, { level: 'ERROR' }), line(i * 3 + 2, '::endgroup::'));
      await store.append('t', batch);
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const index = await store.errorIndex(query('t', { errorsAfter: after, limit: 10 }));
        seen.push(...(index?.errors.map((e) => e.seq) ?? []));
        if (index?.nextErrorsAfter === null || index === undefined) break;
        after = index.nextErrorsAfter;
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i * 3 + 2));
      const second = await store.errorIndex(query('t', { groupsAfter: 28, limit: 10 }));
      expect(second?.groups.map((g) => g.name)).toEqual(['G10', 'G11', 'G12', 'G13', 'G14', 'G15', 'G16', 'G17', 'G18', 'G19']);
      expect(second?.nextGroupsAfter).toBe(58);
      expect(second?.counts).toEqual({ errors: 25, annotations: 0, groups: 25, failedGroups: 25 });
    });

    it('leaves out what a delete took', async () => {
      const store = await open();
      await appendAll(store, 'build-1', buildLog());
      await store.deleteLogs('build-1', T0 + 1025);
      const afterPartial = await store.errorIndex(query('build-1'));
      expect(afterPartial?.errors.map((e) => e.seq)).toEqual([6, 8, 10]);
      expect(afterPartial?.groups.map((g) => g.name)).toEqual(['Upload']);
      await store.deleteLogs('build-1');
      const afterAll = await store.errorIndex(query('build-1'));
      expect(afterAll?.counts).toEqual({ errors: 0, annotations: 0, groups: 0, failedGroups: 0 });
      expect(afterAll?.first).toBeUndefined();
      await store.append('build-1', [line(2000, 'again', { level: 'ERROR' })]);
      expect((await store.errorIndex(query('build-1')))?.errors).toEqual([{ seq: 13, kind: 'error' }]);
    });

    it('the migration fills the index from lines stored before it, as append would have', async () => {
      const first = await open();
      await appendAll(first, 'build-1', buildLog());
      await appendAll(first, 'build-2', [[line(0, 'ok'), line(1, '::group::Only'), line(2, '::endgroup::')]]);
      const kept = [await first.errorIndex(query('build-1')), await first.errorIndex(query('build-2'))];
      await first.close();
      opened.splice(0);
      await storeUnderTest.forgetErrorIndex(dir.path);
      const reopened = await open();
      expect([await reopened.errorIndex(query('build-1')), await reopened.errorIndex(query('build-2'))]).toEqual(kept);
      // And append goes on from it: the open section is still open.
      await reopened.append('build-1', [line(1700, 'upload failed', { level: 'ERROR' }), line(1800, '::endgroup::')]);
      const after = await reopened.errorIndex(query('build-1'));
      expect(after?.groups.at(-1)).toMatchObject({ name: 'Upload', endSeq: 14, status: 'failed', errorCount: 1, durationMs: 260 });
    });
  });
}
