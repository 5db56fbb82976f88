// The LogStore contract: one suite, run against every store in STORES on a fresh temp dir per test.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, sleep, type TempDir } from '@keruta/testing/base';
import { entryId, type LogQuery, type LogRequest, type NormalizedLogRequest } from '@keruta/protocol';
import { createPostgresLogStore, createSqliteLogStore, type LogStore, type LogStoreOptions } from '../src/index.js';
import { createTestDatabase, schemaOfDir } from './postgres-database.js';

// One database for this file; each test's directory names a schema in it, so every test starts
// empty and a store opened again on the same directory finds the same data.
const postgres = await createTestDatabase('the LogStore contract');
afterAll(async () => {
  await postgres?.drop();
});

interface StoreUnderTest {
  name: string;
  /** Why the store cannot be tested here; its tests are skipped. */
  unavailable?: string;
  /** A store on `dir`; called again with the same dir, it opens the same data. */
  create(dir: string, options?: LogStoreOptions): LogStore | Promise<LogStore>;
  /**
   * Makes every later write of an entry with this message fail inside the database (as a full
   * disk would), so that a test can see a batch fail halfway through.
   */
  failWritesOf(dir: string, message: string): void | Promise<void>;
}

const STORES: StoreUnderTest[] = [
  {
    name: 'sqlite',
    create: (dir, options = {}) => createSqliteLogStore({ path: join(dir, 'keruta.db'), ...options }),
    failWritesOf(dir, message) {
      // A second connection adds the trigger; the store's connection picks up the new schema.
      const db = new Database(join(dir, 'keruta.db'));
      try {
        db.exec(`CREATE TRIGGER fail_write BEFORE INSERT ON logs WHEN NEW.message = '${message.replaceAll("'", "''")}'
                 BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END`);
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'postgres',
    ...(postgres === undefined ? { unavailable: 'no PostgreSQL server' } : {}),
    async create(dir, options = {}) {
      if (postgres === undefined) throw new Error('PostgreSQL is not reachable');
      return createPostgresLogStore({ url: await postgres.urlInSchema(schemaOfDir(dir)), maxConnections: 4, ...options });
    },
    async failWritesOf(dir, message) {
      if (postgres === undefined) throw new Error('PostgreSQL is not reachable');
      const schema = schemaOfDir(dir);
      await postgres.query(`CREATE FUNCTION ${schema}.fail_write() RETURNS trigger LANGUAGE plpgsql AS $$
                              BEGIN RAISE EXCEPTION 'simulated write failure'; END $$`);
      await postgres.query(`CREATE TRIGGER fail_write BEFORE INSERT ON ${schema}.logs FOR EACH ROW
                              WHEN (NEW.message = '${message.replaceAll("'", "''")}') EXECUTE FUNCTION ${schema}.fail_write()`);
    },
  },
];

const T0 = Date.parse('2024-05-01T10:00:00.000Z');

type Fields = Partial<LogRequest> & { timeMs?: number };

/** A request as the server hands it to the store: validated, timestamp normalised. */
function line(fields: Fields = {}): NormalizedLogRequest {
  const { timeMs = T0, ...rest } = fields;
  return { source: 'stdout', level: 'INFO', message: 'a line', metadata: {}, ...rest, timeMs, timestamp: new Date(timeMs).toISOString() };
}

/** `count` lines, one millisecond apart from T0, each shaped by `shape(i)` (i from 0). */
function lines(count: number, shape: (i: number) => Fields = () => ({})): NormalizedLogRequest[] {
  return Array.from({ length: count }, (_, i) => line({ message: `line ${i + 1}`, timeMs: T0 + i, ...shape(i) }));
}

function agentEvent(event: string, timeMs: number, extra: Record<string, unknown> = {}): NormalizedLogRequest {
  return line({ source: 'agent', message: `agent ${event}`, timeMs, metadata: { event, ...extra } });
}

function page(fields: Partial<LogQuery> = {}): LogQuery {
  return { page: 0, size: 100, ...fields };
}

function seqsOf(entries: readonly { seq: number }[]): number[] {
  return entries.map((e) => e.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

for (const storeUnderTest of STORES) {
  describe.skipIf(storeUnderTest.unavailable !== undefined)(`LogStore contract: ${storeUnderTest.name}`, () => {
    let dir: TempDir;
    let opened: LogStore[];

    async function open(options?: LogStoreOptions): Promise<LogStore> {
      const store = await storeUnderTest.create(dir.path, options);
      opened.push(store);
      return store;
    }

    beforeEach(async () => {
      dir = await makeTempDir('keruta-store-');
      opened = [];
    });

    afterEach(async () => {
      for (const store of opened) await store.close();
      await dir.remove();
    });

    describe('append', () => {
      it('assigns seq from 1, contiguous across batches', async () => {
        const store = await open();
        const first = await store.append('build-1', lines(3));
        const second = await store.append('build-1', lines(2));
        expect(seqsOf(first.stored)).toEqual([1, 2, 3]);
        expect(seqsOf(second.stored)).toEqual([4, 5]);
        expect(second.lastSeq).toBe(5);
        expect(await store.lastSeq('build-1')).toBe(5);
      });

      it("numbers each task's entries on its own", async () => {
        const store = await open();
        await store.append('a', lines(2));
        const b = await store.append('b', lines(3));
        const a = await store.append('a', lines(1));
        expect(seqsOf(b.stored)).toEqual([1, 2, 3]);
        expect(seqsOf(a.stored)).toEqual([3]);
      });

      it('returns each stored entry with id, seq, taskId and the fields of its request', async () => {
        const store = await open();
        const request = line({
          source: 'stderr',
          level: 'ERROR',
          message: 'boom',
          timeMs: T0 + 42,
          metadata: { processId: 7 },
          runId: 'run-a',
          runSeq: 1,
        });
        const { stored } = await store.append('build-1', [request]);
        const expected = {
          id: entryId('build-1', 1),
          seq: 1,
          taskId: 'build-1',
          timestamp: '2024-05-01T10:00:00.042Z',
          source: 'stderr',
          level: 'ERROR',
          message: 'boom',
          lineNumber: 1,
          metadata: { processId: 7 },
          runId: 'run-a',
          runSeq: 1,
        };
        expect(stored).toEqual([expected]);
        expect((await store.queryLogs('build-1', page()))?.content).toEqual([expected]);
      });

      it('stores nothing and creates no task for an empty batch', async () => {
        const store = await open();
        const result = await store.append('build-1', []);
        expect(result).toEqual({ stored: [], duplicates: 0, conflicts: 0, lastSeq: 0 });
        expect(await store.getTask('build-1')).toBeUndefined();
      });

      it('skips an entry whose runId and runSeq the task already holds', async () => {
        const store = await open();
        await store.append('build-1', lines(3, (i) => ({ runId: 'run-a', runSeq: i + 1 })));
        const resent = await store.append('build-1', lines(4, (i) => ({ runId: 'run-a', runSeq: i + 1 })).slice(1));
        expect(resent.duplicates).toBe(2);
        expect(resent.conflicts).toBe(0);
        expect(resent.stored.map((e) => [e.seq, e.runSeq])).toEqual([[4, 4]]);
        expect(resent.lastSeq).toBe(4);
        expect((await store.stats('build-1'))?.totalLogs).toBe(4);
      });

      it('skips an entry repeated within the same batch', async () => {
        const store = await open();
        const result = await store.append('build-1', [
          line({ runId: 'run-a', runSeq: 1, message: 'one' }),
          line({ runId: 'run-a', runSeq: 2, message: 'two' }),
          line({ runId: 'run-a', runSeq: 1, message: 'one' }),
        ]);
        expect(result.duplicates).toBe(1);
        expect(result.conflicts).toBe(0);
        expect(result.stored.map((e) => [e.seq, e.message])).toEqual([
          [1, 'one'],
          [2, 'two'],
        ]);
        expect(result.lastSeq).toBe(2);
      });

      it('counts a held runSeq sent with another message or source as a conflict, storing the first one only', async () => {
        const store = await open();
        await store.append('build-1', [line({ runId: 'run-a', runSeq: 1, message: 'forged' }), line({ runId: 'run-a', runSeq: 2, message: 'two' })]);
        const real = await store.append('build-1', [
          line({ runId: 'run-a', runSeq: 1, message: 'real one' }),
          line({ runId: 'run-a', runSeq: 2, message: 'two', source: 'stderr' }),
          line({ runId: 'run-a', runSeq: 3, message: 'three' }),
          line({ runId: 'run-a', runSeq: 3, message: 'three, differently' }),
        ]);
        expect(real.conflicts).toBe(3);
        expect(real.duplicates).toBe(0);
        expect(real.stored.map((e) => e.message)).toEqual(['three']);
        expect((await store.stats('build-1'))?.totalLogs).toBe(3);
      });

      it('tells a resend of a line it cut apart from a conflict by the cut text', async () => {
        const store = await open({ maxMessageLength: 10 });
        const long = line({ runId: 'run-a', runSeq: 1, message: 'x'.repeat(50) });
        await store.append('build-1', [long]);
        const resent = await store.append('build-1', [long]);
        expect(resent).toMatchObject({ duplicates: 1, conflicts: 0 });
      });

      it('refuses, whole, a batch of a run that another writer started, with FORBIDDEN', async () => {
        const store = await open();
        await store.append('build-1', [line({ runId: 'run-a', runSeq: 1, message: 'agent line' })], { writer: 'agent-key' });
        await expect(
          store.append('build-1', [line({ runId: 'run-b', runSeq: 1 }), line({ runId: 'run-a', runSeq: 2, message: 'forged' })], {
            writer: 'other-key',
          }),
        ).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('run-a') });
        expect((await store.stats('build-1'))?.totalLogs).toBe(1);
        const own = await store.append('build-1', [line({ runId: 'run-a', runSeq: 2, message: 'agent line 2' })], { writer: 'agent-key' });
        expect(seqsOf(own.stored)).toEqual([2]);
        // The same run id in another task is another run.
        const elsewhere = await store.append('build-2', [line({ runId: 'run-a', runSeq: 1 })], { writer: 'other-key' });
        expect(elsewhere.stored).toHaveLength(1);
      });

      it('gives a run first written without a writer to the next writer that names one', async () => {
        const store = await open();
        await store.append('build-1', [line({ runId: 'run-a', runSeq: 1 })]);
        await store.append('build-1', [line({ runId: 'run-a', runSeq: 2 })], { writer: 'agent-key' });
        await expect(store.append('build-1', [line({ runId: 'run-a', runSeq: 3 })], { writer: 'other-key' })).rejects.toMatchObject({
          code: 'FORBIDDEN',
        });
      });

      it('stores the same runSeq again for another run or another task', async () => {
        const store = await open();
        await store.append('build-1', [line({ runId: 'run-a', runSeq: 1 })]);
        const otherRun = await store.append('build-1', [line({ runId: 'run-b', runSeq: 1 })]);
        const otherTask = await store.append('build-2', [line({ runId: 'run-a', runSeq: 1 })]);
        expect(otherRun.duplicates).toBe(0);
        expect(seqsOf(otherRun.stored)).toEqual([2]);
        expect(otherTask.duplicates).toBe(0);
      });

      it('tells resends from conflicts across batches of several runs and lines without a run in between', async () => {
        const store = await open();
        const runA = (from: number, to: number) => range(from, to).map((n) => line({ runId: 'run-a', runSeq: n, message: `a${n}` }));
        await store.append('build-1', runA(1, 3));
        await store.append('build-1', [line({ message: 'no run' }), line({ runId: 'run-b', runSeq: 1, message: 'b1' })]);
        await store.append('build-1', runA(4, 6));
        // Interleaved in one batch: every line of run-a a stretch of its own.
        await store.append('build-1', [
          line({ runId: 'run-a', runSeq: 7, message: 'a7' }),
          line({ runId: 'run-b', runSeq: 2, message: 'b2' }),
          line({ runId: 'run-a', runSeq: 8, message: 'a8' }),
        ]);
        const resent = await store.append('build-1', [
          ...runA(2, 8).map((e) => (e.runSeq === 5 ? { ...e, message: 'not a5' } : e)),
          line({ runId: 'run-b', runSeq: 2, message: 'b2' }),
          line({ runId: 'run-a', runSeq: 9, message: 'a9' }),
        ]);
        expect(resent).toMatchObject({ duplicates: 7, conflicts: 1 });
        expect(resent.stored.map((e) => [e.seq, e.message])).toEqual([[12, 'a9']]);
      });

      it('stores a runSeq below the run\'s highest that it never held, and holds it from then on', async () => {
        const store = await open();
        const runA = (from: number, to: number) => range(from, to).map((n) => line({ runId: 'run-a', runSeq: n, message: `a${n}` }));
        await store.append('build-1', runA(1, 3));
        await store.append('build-1', runA(7, 9));
        const filled = await store.append('build-1', runA(4, 6));
        expect(filled).toMatchObject({ duplicates: 0, conflicts: 0 });
        expect(filled.stored.map((e) => [e.seq, e.runSeq])).toEqual([
          [7, 4],
          [8, 5],
          [9, 6],
        ]);
        const resent = await store.append('build-1', runA(1, 10));
        expect(resent).toMatchObject({ duplicates: 9, conflicts: 0 });
        expect(resent.stored.map((e) => e.runSeq)).toEqual([10]);
      });

      it('counts the resend of a line since deleted as a duplicate: a runSeq is stored once', async () => {
        const store = await open();
        await store.append('build-1', lines(4, (i) => ({ runId: 'run-a', runSeq: i + 1, timeMs: T0 + i * 10 })));
        await store.deleteLogs('build-1', T0 + 15);
        const resent = await store.append('build-1', lines(5, (i) => ({ runId: 'run-a', runSeq: i + 1, message: `again ${i}`, timeMs: T0 + i * 10 })));
        expect(resent).toMatchObject({ duplicates: 2, conflicts: 2 });
        expect(resent.stored.map((e) => [e.seq, e.runSeq])).toEqual([[5, 5]]);
      });

      it('reads back every entry with its own runId and runSeq, whatever the page or range cuts', async () => {
        const store = await open();
        await store.append('build-1', lines(5, (i) => ({ runId: 'run-a', runSeq: i + 1 })));
        await store.append('build-1', [line({ message: 'no run' }), line({ runId: 'run-b', runSeq: 7 }), line({ runId: 'run-a', runSeq: 6 })]);
        await store.append('build-1', lines(3, (i) => ({ runId: 'run-a', runSeq: i + 7, level: i === 1 ? 'ERROR' : 'INFO' })));
        const expected = [
          ...range(1, 5).map((n) => ['run-a', n]),
          [undefined, undefined],
          ['run-b', 7],
          ['run-a', 6],
          ...range(7, 9).map((n) => ['run-a', n]),
        ];
        const runsOf = (entries: readonly { runId?: string; runSeq?: number }[]) => entries.map((e) => [e.runId, e.runSeq]);
        expect(runsOf((await store.queryLogs('build-1', page()))?.content ?? [])).toEqual(expected);
        expect(runsOf((await store.queryLogs('build-1', page({ page: 1, size: 3 })))?.content ?? [])).toEqual(expected.slice(3, 6));
        expect(runsOf((await store.queryLogs('build-1', page({ afterSeq: 6, size: 4 })))?.content ?? [])).toEqual(expected.slice(6, 10));
        expect(runsOf((await store.queryLogs('build-1', page({ levels: ['ERROR'] })))?.content ?? [])).toEqual([['run-a', 8]]);
        const { entries } = await store.readRange({ taskId: 'build-1', afterSeq: 2, upToSeq: 9, limit: 100 });
        expect(runsOf(entries)).toEqual(expected.slice(2, 9));
      });

      it('stores an entry without a runId every time it is sent', async () => {
        const store = await open();
        await store.append('build-1', [line({ message: 'same' })]);
        const again = await store.append('build-1', [line({ message: 'same' })]);
        expect(again.duplicates).toBe(0);
        expect(again.lastSeq).toBe(2);
      });

      it('changes nothing for a batch of duplicates only', async () => {
        const store = await open();
        const batch = lines(3, (i) => ({ runId: 'run-a', runSeq: i + 1 }));
        await store.append('build-1', batch);
        const before = await store.getTask('build-1');
        await sleep(5);
        const resent = await store.append('build-1', batch);
        expect(resent).toEqual({ stored: [], duplicates: 3, conflicts: 0, lastSeq: 3 });
        expect(await store.getTask('build-1')).toEqual(before);
      });

      it('numbers lines per source from 1 when the request has no lineNumber', async () => {
        const store = await open();
        const { stored } = await store.append('build-1', [
          line({ source: 'stdout' }),
          line({ source: 'stderr' }),
          line({ source: 'stdout' }),
          line({ source: 'agent' }),
          line({ source: 'stdout' }),
        ]);
        expect(stored.map((e) => [e.source, e.lineNumber])).toEqual([
          ['stdout', 1],
          ['stderr', 1],
          ['stdout', 2],
          ['agent', 1],
          ['stdout', 3],
        ]);
        const next = await store.append('build-1', [line({ source: 'stderr' })]);
        expect(next.stored[0]?.lineNumber).toBe(2);
      });

      it('keeps a given lineNumber and continues after it, never reusing a number', async () => {
        const store = await open();
        const given = await store.append('build-1', [line({ lineNumber: 10 }), line()]);
        expect(given.stored.map((e) => e.lineNumber)).toEqual([10, 11]);
        await store.deleteLogs('build-1');
        const afterDelete = await store.append('build-1', [line()]);
        expect(afterDelete.stored[0]?.lineNumber).toBe(12);
      });

      it('cuts a message longer than maxMessageLength and marks it truncated', async () => {
        const store = await open({ maxMessageLength: 5 });
        const { stored } = await store.append('build-1', [line({ message: 'abcdefgh', metadata: { pid: 1 } })]);
        expect(stored[0]?.message).toBe('abcde');
        expect(stored[0]?.metadata).toEqual({ pid: 1, truncated: true, originalLength: 8 });
        const read = await store.queryLogs('build-1', page());
        expect(read?.content[0]?.message).toBe('abcde');
        expect(read?.content[0]?.metadata).toEqual({ pid: 1, truncated: true, originalLength: 8 });
      });
    });

    describe('queryLogs', () => {
      it('returns undefined for a task that has never had a log', async () => {
        const store = await open();
        expect(await store.queryLogs('nobody', page())).toBeUndefined();
      });

      it('pages by number in seq order with totalElements, totalPages, size and number', async () => {
        const store = await open();
        await store.append('build-1', lines(25));
        const first = await store.queryLogs('build-1', page({ page: 0, size: 10 }));
        const last = await store.queryLogs('build-1', page({ page: 2, size: 10 }));
        expect(seqsOf(first?.content ?? [])).toEqual(range(1, 10));
        expect(first).toMatchObject({ totalElements: 25, totalPages: 3, size: 10, number: 0 });
        expect(seqsOf(last?.content ?? [])).toEqual(range(21, 25));
        expect(last).toMatchObject({ totalElements: 25, totalPages: 3, size: 10, number: 2 });
      });

      it('returns an empty page past the end, with the totals', async () => {
        const store = await open();
        await store.append('build-1', lines(25));
        const beyond = await store.queryLogs('build-1', page({ page: 7, size: 10 }));
        expect(beyond).toEqual({ content: [], totalElements: 25, totalPages: 3, size: 10, number: 7 });
      });

      it('translates a page offset into a seq bound on a contiguous task that no longer starts at 1', async () => {
        const store = await open();
        await store.append('build-1', lines(30));
        await store.deleteLogs('build-1', T0 + 10); // seqs 1-10 go; 11-30 stay, without holes
        const second = await store.queryLogs('build-1', page({ page: 1, size: 5 }));
        expect(seqsOf(second?.content ?? [])).toEqual(range(16, 20));
        expect(second).toMatchObject({ totalElements: 20, totalPages: 4 });
      });

      it('pages right over a hole that a delete left in the middle of the task', async () => {
        const store = await open();
        // Seqs 6-10 carry old timestamps, so a delete by time takes them out of the middle.
        await store.append('build-1', lines(20, (i) => ({ timeMs: i >= 5 && i < 10 ? T0 - 1000 : T0 + i })));
        expect(await store.deleteLogs('build-1', T0)).toBe(5);
        const first = await store.queryLogs('build-1', page({ page: 0, size: 4 }));
        const second = await store.queryLogs('build-1', page({ page: 1, size: 4 }));
        const fourth = await store.queryLogs('build-1', page({ page: 3, size: 4 }));
        expect(seqsOf(first?.content ?? [])).toEqual([1, 2, 3, 4]);
        expect(seqsOf(second?.content ?? [])).toEqual([5, 11, 12, 13]);
        expect(seqsOf(fourth?.content ?? [])).toEqual([18, 19, 20]);
        expect(fourth).toMatchObject({ totalElements: 15, totalPages: 4 });
      });

      describe('filters', () => {
        // 12 lines: sources cycle stdout, stderr, agent; levels cycle DEBUG, INFO, WARN, ERROR.
        const SOURCES = ['stdout', 'stderr', 'agent'] as const;
        const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
        const mixed = () =>
          lines(12, (i) => ({
            source: SOURCES[i % 3] ?? 'stdout',
            level: LEVELS[i % 4] ?? 'INFO',
            message: i % 5 === 0 ? `Deploy step ${i + 1}` : `plain ${i + 1}`,
          }));

        async function filled(): Promise<LogStore> {
          const store = await open();
          await store.append('build-1', mixed());
          return store;
        }

        async function expectMatches(store: LogStore, query: Partial<LogQuery>, seqs: number[]): Promise<void> {
          const result = await store.queryLogs('build-1', page(query));
          expect(seqsOf(result?.content ?? [])).toEqual(seqs);
          expect(result?.totalElements).toBe(seqs.length);
        }

        it('keeps only the given sources', async () => {
          const store = await filled();
          await expectMatches(store, { sources: ['stderr'] }, [2, 5, 8, 11]);
          await expectMatches(store, { sources: ['stdout', 'agent'] }, [1, 3, 4, 6, 7, 9, 10, 12]);
        });

        it('keeps only the given levels', async () => {
          const store = await filled();
          await expectMatches(store, { levels: ['ERROR'] }, [4, 8, 12]);
          await expectMatches(store, { levels: ['WARN', 'ERROR'] }, [3, 4, 7, 8, 11, 12]);
        });

        it('combines sources and levels', async () => {
          const store = await filled();
          await expectMatches(store, { sources: ['stdout'], levels: ['DEBUG', 'ERROR'] }, [1, 4]);
        });

        it('treats a list of every source or level like no filter', async () => {
          const store = await filled();
          await expectMatches(store, { sources: ['stdout', 'stderr', 'agent'], levels: ['DEBUG', 'INFO', 'WARN', 'ERROR'] }, range(1, 12));
        });

        it('keeps entries between from and to, both inclusive', async () => {
          const store = await filled();
          await expectMatches(store, { from: T0 + 3, to: T0 + 6 }, [4, 5, 6, 7]);
          await expectMatches(store, { from: T0 + 10 }, [11, 12]);
          await expectMatches(store, { to: T0 }, [1]);
        });

        it('finds text in the message ignoring case', async () => {
          const store = await filled();
          await expectMatches(store, { q: 'deploy STEP' }, [1, 6, 11]);
          await expectMatches(store, { q: 'nowhere' }, []);
        });

        it('reads % _ and \\ in q as themselves, never as a pattern', async () => {
          const store = await open();
          await store.append('build-1', [
            line({ message: '100% done' }),
            line({ message: '1000 done' }),
            line({ message: 'file_name' }),
            line({ message: 'fileXname' }),
            line({ message: 'C:\\temp' }),
            line({ message: 'C:temp' }),
          ]);
          await expectMatches(store, { q: '0%' }, [1]);
          await expectMatches(store, { q: 'e_n' }, [3]);
          await expectMatches(store, { q: ':\\t' }, [5]);
          await expectMatches(store, { q: '%' }, [1]);
          await expectMatches(store, { q: '_' }, [3]);
        });

        it('finds non-ASCII text ignoring case', async () => {
          const store = await open();
          await store.append('build-1', [line({ message: 'Ärger im Büro' }), line({ message: 'ärger' }), line({ message: 'ビルド失敗' })]);
          await expectMatches(store, { q: 'ÄRGER' }, [1, 2]);
          await expectMatches(store, { q: '失敗' }, [3]);
        });

        it('applies every filter at once', async () => {
          const store = await filled();
          await expectMatches(store, { sources: ['stderr', 'agent'], levels: ['INFO', 'WARN'], from: T0 + 1, to: T0 + 10, q: 'deploy' }, [6, 11]);
        });

        it('pages the matching entries and counts them all', async () => {
          const store = await filled();
          const second = await store.queryLogs('build-1', page({ sources: ['stdout', 'agent'], page: 1, size: 3 }));
          expect(seqsOf(second?.content ?? [])).toEqual([6, 7, 9]);
          expect(second).toMatchObject({ totalElements: 8, totalPages: 3, size: 3, number: 1 });
        });

        it('reads after a seq with afterSeq, ignoring page and counting every match', async () => {
          const store = await filled();
          const after = await store.queryLogs('build-1', page({ afterSeq: 7, page: 3, size: 3 }));
          expect(seqsOf(after?.content ?? [])).toEqual([8, 9, 10]);
          expect(after).toMatchObject({ totalElements: 12, totalPages: 4, size: 3, number: 3 });
          const filtered = await store.queryLogs('build-1', page({ afterSeq: 4, levels: ['ERROR'], size: 10 }));
          expect(seqsOf(filtered?.content ?? [])).toEqual([8, 12]);
          expect(filtered?.totalElements).toBe(3);
        });

        it('returns no entries for an afterSeq at or past the last seq', async () => {
          const store = await filled();
          expect((await store.queryLogs('build-1', page({ afterSeq: 12 })))?.content).toEqual([]);
          expect((await store.queryLogs('build-1', page({ afterSeq: 99 })))?.content).toEqual([]);
        });
      });
    });

    describe('readRange', () => {
      it('reads the entries after a seq, at most limit of them', async () => {
        const store = await open();
        await store.append('build-1', lines(10));
        const result = await store.readRange({ taskId: 'build-1', afterSeq: 3, limit: 4 });
        expect(seqsOf(result.entries)).toEqual([4, 5, 6, 7]);
        expect(result).toMatchObject({ scannedTo: 7, done: false });
      });

      it('stops at upToSeq and says it is done', async () => {
        const store = await open();
        await store.append('build-1', lines(10));
        const result = await store.readRange({ taskId: 'build-1', afterSeq: 0, upToSeq: 5, limit: 100 });
        expect(seqsOf(result.entries)).toEqual(range(1, 5));
        expect(result).toMatchObject({ scannedTo: 5, done: true });
      });

      it('is done when the limit takes exactly the rest', async () => {
        const store = await open();
        await store.append('build-1', lines(10));
        const result = await store.readRange({ taskId: 'build-1', afterSeq: 5, limit: 5 });
        expect(seqsOf(result.entries)).toEqual(range(6, 10));
        expect(result).toMatchObject({ scannedTo: 10, done: true });
      });

      it('skips what the filter rejects and resumes from scannedTo', async () => {
        const store = await open();
        await store.append('build-1', lines(10, (i) => ({ source: i === 1 || i === 4 ? 'stderr' : 'stdout' })));
        const filter = { sources: ['stderr'] as const };
        const first = await store.readRange({ taskId: 'build-1', afterSeq: 0, limit: 1, filter });
        expect(seqsOf(first.entries)).toEqual([2]);
        expect(first).toMatchObject({ scannedTo: 2, done: false });
        const second = await store.readRange({ taskId: 'build-1', afterSeq: first.scannedTo, limit: 1, filter });
        expect(seqsOf(second.entries)).toEqual([5]);
        expect(second).toMatchObject({ scannedTo: 10, done: true });
      });

      it('reports how far it scanned when the filter matches nothing', async () => {
        const store = await open();
        await store.append('build-1', lines(10));
        let afterSeq = 0;
        for (let reads = 0; reads < 100; reads++) {
          const result = await store.readRange({ taskId: 'build-1', afterSeq, upToSeq: 8, limit: 3, filter: { levels: ['ERROR'] } });
          expect(result.entries).toEqual([]);
          expect(result.scannedTo).toBeGreaterThan(afterSeq);
          afterSeq = result.scannedTo;
          if (result.done) break;
        }
        expect(afterSeq).toBe(8);
      });

      it('looks at no more than maxScan seqs of a filtered range, and reads on from scannedTo', async () => {
        const store = await open();
        await store.append('build-1', lines(10, (i) => ({ message: i === 5 ? 'needle' : 'hay' })));
        const first = await store.readRange({ taskId: 'build-1', afterSeq: 0, limit: 10, maxScan: 4, filter: { text: 'needle' } });
        expect(first).toEqual({ entries: [], scannedTo: 4, done: false });
        const second = await store.readRange({ taskId: 'build-1', afterSeq: 4, limit: 10, maxScan: 4, filter: { text: 'needle' } });
        expect(seqsOf(second.entries)).toEqual([6]);
        expect(second).toMatchObject({ scannedTo: 8, done: false });
        const last = await store.readRange({ taskId: 'build-1', afterSeq: 8, limit: 10, maxScan: 4, filter: { text: 'needle' } });
        expect(last).toEqual({ entries: [], scannedTo: 10, done: true });
      });

      it('applies time and text filters to a range', async () => {
        const store = await open();
        await store.append('build-1', lines(10, (i) => ({ message: i % 2 === 0 ? 'even line' : 'odd line' })));
        const result = await store.readRange({
          taskId: 'build-1',
          afterSeq: 0,
          limit: 10,
          filter: { text: 'EVEN', fromMs: T0 + 2, toMs: T0 + 6 },
        });
        expect(seqsOf(result.entries)).toEqual([3, 5, 7]);
        expect(result.done).toBe(true);
      });

      it('returns nothing, done, for an unknown task or an afterSeq at the end', async () => {
        const store = await open();
        await store.append('build-1', lines(3));
        expect(await store.readRange({ taskId: 'nobody', afterSeq: 0, limit: 10 })).toEqual({ entries: [], scannedTo: 0, done: true });
        expect(await store.readRange({ taskId: 'build-1', afterSeq: 3, limit: 10 })).toEqual({ entries: [], scannedTo: 3, done: true });
      });
    });

    describe('tailStart', () => {
      it('gives the seq after which the last count entries begin', async () => {
        const store = await open();
        await store.append('build-1', lines(10));
        const start = await store.tailStart('build-1', 3, 10);
        expect(start).toBe(7);
        const tail = await store.readRange({ taskId: 'build-1', afterSeq: start, upToSeq: 10, limit: 100 });
        expect(seqsOf(tail.entries)).toEqual([8, 9, 10]);
      });

      it('counts the tail back from upToSeq', async () => {
        const store = await open();
        await store.append('build-1', lines(10));
        expect(await store.tailStart('build-1', 2, 6)).toBe(4);
      });

      it('returns 0 when fewer entries exist than asked for', async () => {
        const store = await open();
        await store.append('build-1', lines(5));
        expect(await store.tailStart('build-1', 20, 5)).toBe(0);
        expect(await store.tailStart('nobody', 20, 5)).toBe(0);
      });

      it('counts only the entries that match the filter', async () => {
        const store = await open();
        await store.append('build-1', lines(10, (i) => ({ source: i === 1 || i === 4 || i === 7 ? 'stderr' : 'stdout' })));
        const filter = { sources: ['stderr'] as const };
        const start = await store.tailStart('build-1', 2, 10, filter);
        const tail = await store.readRange({ taskId: 'build-1', afterSeq: start, upToSeq: 10, limit: 100, filter });
        expect(seqsOf(tail.entries)).toEqual([5, 8]);
        expect(await store.tailStart('build-1', 4, 10, filter)).toBe(0);
      });

      it('counts across a hole a delete left', async () => {
        const store = await open();
        await store.append('build-1', lines(10, (i) => ({ timeMs: i >= 6 && i < 8 ? T0 - 1000 : T0 + i })));
        await store.deleteLogs('build-1', T0); // seqs 7 and 8 go
        const start = await store.tailStart('build-1', 4, 10);
        const tail = await store.readRange({ taskId: 'build-1', afterSeq: start, upToSeq: 10, limit: 100 });
        expect(seqsOf(tail.entries)).toEqual([5, 6, 9, 10]);
      });
    });

    describe('stats', () => {
      it('counts entries per source and level, with the time range', async () => {
        const store = await open();
        await store.append('build-1', [
          line({ source: 'stdout', level: 'INFO', timeMs: T0 + 5 }),
          line({ source: 'stderr', level: 'ERROR', timeMs: T0 }),
          line({ source: 'stderr', level: 'WARN', timeMs: T0 + 9 }),
          line({ source: 'agent', level: 'DEBUG', timeMs: T0 + 1 }),
        ]);
        expect(await store.stats('build-1')).toEqual({
          taskId: 'build-1',
          totalLogs: 4,
          logCounts: { stdout: 1, stderr: 2, agent: 1 },
          levelCounts: { DEBUG: 1, INFO: 1, WARN: 1, ERROR: 1 },
          timeRange: { start: '2024-05-01T10:00:00.000Z', end: '2024-05-01T10:00:00.009Z' },
        });
      });

      it('returns undefined for an unknown task', async () => {
        const store = await open();
        expect(await store.stats('nobody')).toBeUndefined();
      });
    });

    describe('deleteLogs', () => {
      it("deletes all of a task's entries and keeps the task and its last seq", async () => {
        const store = await open();
        await store.append('build-1', lines(5));
        await store.append('build-2', lines(2));
        expect(await store.deleteLogs('build-1')).toBe(5);
        expect(await store.stats('build-1')).toEqual({
          taskId: 'build-1',
          totalLogs: 0,
          logCounts: { stdout: 0, stderr: 0, agent: 0 },
          levelCounts: { DEBUG: 0, INFO: 0, WARN: 0, ERROR: 0 },
          timeRange: { start: null, end: null },
        });
        expect(await store.queryLogs('build-1', page())).toEqual({ content: [], totalElements: 0, totalPages: 0, size: 100, number: 0 });
        expect(await store.getTask('build-1')).toMatchObject({ totalLogs: 0, lastSeq: 5 });
        expect((await store.stats('build-2'))?.totalLogs).toBe(2);
      });

      it('never hands out a deleted seq again', async () => {
        const store = await open();
        await store.append('build-1', lines(5));
        await store.deleteLogs('build-1');
        const after = await store.append('build-1', lines(2));
        expect(seqsOf(after.stored)).toEqual([6, 7]);
        expect(seqsOf((await store.queryLogs('build-1', page()))?.content ?? [])).toEqual([6, 7]);
      });

      it('deletes only the entries older than before, which is exclusive', async () => {
        const store = await open();
        await store.append(
          'build-1',
          lines(10, (i) => ({ source: i % 2 === 0 ? 'stdout' : 'stderr', level: i < 3 ? 'ERROR' : 'INFO' })),
        );
        expect(await store.deleteLogs('build-1', T0 + 4)).toBe(4); // seqs 1-4; the one at T0+4 stays
        expect(await store.stats('build-1')).toEqual({
          taskId: 'build-1',
          totalLogs: 6,
          logCounts: { stdout: 3, stderr: 3, agent: 0 },
          levelCounts: { DEBUG: 0, INFO: 6, WARN: 0, ERROR: 0 },
          timeRange: { start: '2024-05-01T10:00:00.004Z', end: '2024-05-01T10:00:00.009Z' },
        });
        expect(seqsOf((await store.queryLogs('build-1', page()))?.content ?? [])).toEqual(range(5, 10));
        const errors = await store.queryLogs('build-1', page({ levels: ['ERROR'] }));
        expect(errors).toMatchObject({ content: [], totalElements: 0 });
      });

      it('returns 0 when nothing is older, and undefined for an unknown task', async () => {
        const store = await open();
        await store.append('build-1', lines(3));
        expect(await store.deleteLogs('build-1', T0)).toBe(0);
        expect((await store.stats('build-1'))?.totalLogs).toBe(3);
        expect(await store.deleteLogs('nobody')).toBeUndefined();
      });
    });

    describe('task status', () => {
      it('is unknown for a task made by ordinary entries, with no taskChanged', async () => {
        const store = await open();
        const result = await store.append('build-1', lines(2));
        expect(result.taskChanged).toBeUndefined();
        expect(await store.getTask('build-1')).toMatchObject({ status: 'unknown' });
      });

      it("becomes running on the agent's started entry", async () => {
        const store = await open();
        const result = await store.append('build-1', [agentEvent('started', T0 + 1), line({ timeMs: T0 + 2 })]);
        const expected = { taskId: 'build-1', status: 'running', startedAt: '2024-05-01T10:00:00.001Z', totalLogs: 2, lastSeq: 2 };
        expect(result.taskChanged).toMatchObject(expected);
        expect(result.taskChanged?.exitCode).toBeUndefined();
        expect(await store.getTask('build-1')).toEqual(result.taskChanged);
      });

      it('becomes succeeded on exit code 0 and failed on any other', async () => {
        const store = await open();
        await store.append('ok', [agentEvent('started', T0)]);
        const ok = await store.append('ok', [agentEvent('exited', T0 + 50, { exitCode: 0 })]);
        expect(ok.taskChanged).toMatchObject({
          status: 'succeeded',
          exitCode: 0,
          startedAt: '2024-05-01T10:00:00.000Z',
          finishedAt: '2024-05-01T10:00:00.050Z',
        });
        await store.append('bad', [agentEvent('started', T0)]);
        const bad = await store.append('bad', [agentEvent('exited', T0 + 9, { exitCode: 137 })]);
        expect(bad.taskChanged).toMatchObject({ status: 'failed', exitCode: 137 });
        expect(await store.getTask('bad')).toMatchObject({ status: 'failed', exitCode: 137 });
      });

      it('becomes failed, with no exit code, when the agent says it was lost before the script ended', async () => {
        const store = await open();
        await store.append('killed', [agentEvent('started', T0), line({ timeMs: T0 + 1 })]);
        const lost = await store.append('killed', [agentEvent('lost', T0 + 70)]);
        expect(lost.taskChanged).toMatchObject({ status: 'failed', startedAt: '2024-05-01T10:00:00.000Z', finishedAt: '2024-05-01T10:00:00.070Z' });
        expect(lost.taskChanged?.exitCode).toBeUndefined();
        expect(await store.getTask('killed')).toEqual(lost.taskChanged);
      });

      it('starts over on a new started entry, forgetting the previous exit', async () => {
        const store = await open();
        await store.append('build-1', [agentEvent('started', T0), agentEvent('exited', T0 + 1, { exitCode: 1 })]);
        const rerun = await store.append('build-1', [agentEvent('started', T0 + 100)]);
        expect(rerun.taskChanged).toMatchObject({ status: 'running', startedAt: '2024-05-01T10:00:00.100Z' });
        const task = await store.getTask('build-1');
        expect(task?.exitCode).toBeUndefined();
        expect(task?.finishedAt).toBeUndefined();
      });

      it('ends a batch holding both events in the final state', async () => {
        const store = await open();
        const result = await store.append('build-1', [agentEvent('started', T0), line(), agentEvent('exited', T0 + 3, { exitCode: 2 })]);
        expect(result.taskChanged).toMatchObject({ status: 'failed', exitCode: 2, lastSeq: 3 });
      });

      it('ignores events from stdout, exits without a numeric exitCode and other agent events', async () => {
        const store = await open();
        const result = await store.append('build-1', [
          line({ source: 'stdout', metadata: { event: 'started' } }),
          agentEvent('exited', T0, { exitCode: 'zero' }),
          agentEvent('reconnected', T0),
        ]);
        expect(result.taskChanged).toBeUndefined();
        expect(await store.getTask('build-1')).toMatchObject({ status: 'unknown' });
      });

      it('does not report a resent started entry as a change', async () => {
        const store = await open();
        const started = { ...agentEvent('started', T0), runId: 'run-a', runSeq: 1 };
        await store.append('build-1', [started]);
        const resent = await store.append('build-1', [started]);
        expect(resent.duplicates).toBe(1);
        expect(resent.taskChanged).toBeUndefined();
      });
    });

    describe('tasks', () => {
      it('summarises a task', async () => {
        const store = await open();
        const before = Date.now();
        await store.append('build-1', lines(4));
        const task = await store.getTask('build-1');
        expect(task).toMatchObject({ taskId: 'build-1', status: 'unknown', totalLogs: 4, lastSeq: 4 });
        const updatedAt = Date.parse(task?.updatedAt ?? '');
        expect(updatedAt).toBeGreaterThanOrEqual(before - 1);
        expect(updatedAt).toBeLessThanOrEqual(Date.now() + 1);
        expect(await store.getTask('nobody')).toBeUndefined();
      });

      it('lists tasks newest activity first, as a page', async () => {
        const store = await open();
        for (const taskId of ['a', 'b', 'c']) {
          await store.append(taskId, lines(1));
          await sleep(5);
        }
        await store.append('a', lines(1));
        const first = await store.listTasks(0, 2);
        expect(first.content.map((t) => t.taskId)).toEqual(['a', 'c']);
        expect(first).toMatchObject({ totalElements: 3, totalPages: 2, size: 2, number: 0 });
        const second = await store.listTasks(1, 2);
        expect(second.content.map((t) => t.taskId)).toEqual(['b']);
        expect(second.content[0]).toMatchObject({ totalLogs: 1, lastSeq: 1 });
      });

      it('lists, counts and pages only the tasks matching the given patterns, with no other wildcard than *', async () => {
        const store = await open();
        for (const taskId of ['build-1', 'build-2', 'deploy-1', 'build_x', 'buildAx', 'b.c']) await store.append(taskId, lines(1));
        const builds = await store.listTasks(0, 1, ['build-*']);
        expect(builds).toMatchObject({ totalElements: 2, totalPages: 2, size: 1, number: 0 });
        const both = [...builds.content, ...(await store.listTasks(1, 1, ['build-*'])).content].map((t) => t.taskId).sort();
        expect(both).toEqual(['build-1', 'build-2']);
        // `_` and `?` mean themselves: build_x matches only build_x, never buildAx.
        expect((await store.listTasks(0, 10, ['build_x'])).content.map((t) => t.taskId)).toEqual(['build_x']);
        expect((await store.listTasks(0, 10, ['build?x', 'b[.]c'])).totalElements).toBe(0);
        expect((await store.listTasks(0, 10, ['deploy-*', 'b.c'])).content.map((t) => t.taskId).sort()).toEqual(['b.c', 'deploy-1']);
        expect((await store.listTasks(0, 10, [])).totalElements).toBe(0);
        expect((await store.listTasks(0, 10, ['*'])).totalElements).toBe(6);
      });

      it('gives 0 as the last seq of an unknown task', async () => {
        const store = await open();
        expect(await store.lastSeq('nobody')).toBe(0);
      });
    });

    describe('failures and durability', () => {
      it('answers a ping while open', async () => {
        const store = await open();
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('fails every call with DATABASE_ERROR once closed', async () => {
        const store = await open();
        await store.append('build-1', lines(2));
        await store.close();
        const calls: [string, () => Promise<unknown>][] = [
          ['append', () => store.append('build-1', lines(1))],
          ['queryLogs', () => store.queryLogs('build-1', page())],
          ['readRange', () => store.readRange({ taskId: 'build-1', afterSeq: 0, limit: 10 })],
          ['tailStart', () => store.tailStart('build-1', 1, 2)],
          ['stats', () => store.stats('build-1')],
          ['deleteLogs', () => store.deleteLogs('build-1')],
          ['getTask', () => store.getTask('build-1')],
          ['listTasks', () => store.listTasks(0, 10)],
          ['lastSeq', () => store.lastSeq('build-1')],
          ['ping', () => store.ping()],
        ];
        for (const [name, call] of calls) {
          const error = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error, name).toMatchObject({ name: 'KerutaError', code: 'DATABASE_ERROR' });
          expect((error as Error).message, name).not.toMatch(/SELECT|INSERT|DELETE|UPDATE/);
        }
        await expect(store.close()).resolves.toBeUndefined();
      });

      it('stores nothing of a batch that fails halfway, and keeps going afterwards', async () => {
        const store = await open();
        await store.append('build-1', lines(3, (i) => ({ runId: 'run-a', runSeq: i + 1 })));
        const before = { stats: await store.stats('build-1'), task: await store.getTask('build-1') };
        await storeUnderTest.failWritesOf(dir.path, 'poison');
        const batch = [
          line({ message: 'fine', runId: 'run-a', runSeq: 4 }),
          agentEvent('started', T0 + 1),
          ...lines(250, (i) => ({ runId: 'run-a', runSeq: i + 5 })),
          line({ message: 'poison', runId: 'run-a', runSeq: 300 }),
        ];
        const error = await store.append('build-1', batch).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'DATABASE_ERROR' });
        expect(await store.stats('build-1')).toEqual(before.stats);
        expect(await store.getTask('build-1')).toEqual(before.task);
        expect(seqsOf((await store.queryLogs('build-1', page()))?.content ?? [])).toEqual([1, 2, 3]);
        // Nothing of it was remembered as held: the same batch without the poison goes in whole.
        const retried = await store.append('build-1', batch.slice(0, -1));
        expect(retried.duplicates).toBe(0);
        expect(retried.stored[0]).toMatchObject({ seq: 4, message: 'fine', lineNumber: 4 });
        expect(retried.lastSeq).toBe(255);
      });

      it('keeps everything when the same store is opened again', async () => {
        const first = await open();
        await first.append('build-1', [agentEvent('started', T0), ...lines(4, (i) => ({ runId: 'run-a', runSeq: i + 1 }))]);
        await first.deleteLogs('build-1', T0 + 1);
        const page1 = await first.queryLogs('build-1', page());
        const stats = await first.stats('build-1');
        const task = await first.getTask('build-1');
        await first.close();

        const second = await open();
        expect(await second.queryLogs('build-1', page())).toEqual(page1);
        expect(await second.stats('build-1')).toEqual(stats);
        expect(await second.getTask('build-1')).toEqual(task);
        // runSeq 1 went with the delete; 2-4 are still held.
        const resent = await second.append('build-1', lines(5, (i) => ({ runId: 'run-a', runSeq: i + 1 })).slice(1));
        expect(resent.duplicates).toBe(3);
        expect(resent.stored.map((e) => [e.seq, e.lineNumber])).toEqual([[6, 5]]);
      });
    });
  });
}
