// Search across tasks: the same behaviour from every store's index (SQLite file, SQLite in memory,
// PostgreSQL), fed as keruta-api feeds it: told of each append, searched newest first.
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@keruta/testing/base';
import { parseLogRequest, type LogLevel, type NormalizedLogRequest } from '@keruta/protocol';
import { createPostgresLogStore, createSqliteLogStore, type LogStore, type SearchIndex, type SearchQuery } from '../src/index.js';
import { assertBoundedPattern, requiredLiterals } from '../src/search/matcher.js';
import { createTestDatabase, schemaOfDir } from './postgres-database.js';

const postgres = await createTestDatabase('search across tasks');
afterAll(async () => {
  await postgres?.drop();
});

const STORES: { name: string; unavailable?: string; create(dir: string): LogStore | Promise<LogStore> }[] = [
  { name: 'sqlite file', create: (dir) => createSqliteLogStore({ path: join(dir, 'keruta.db') }) },
  { name: 'sqlite in memory', create: () => createSqliteLogStore({ path: ':memory:' }) },
  {
    name: 'postgres',
    ...(postgres === undefined ? { unavailable: 'no PostgreSQL server' } : {}),
    async create(dir) {
      if (postgres === undefined) throw new Error('PostgreSQL is not reachable');
      return createPostgresLogStore({ url: await postgres.urlInSchema(schemaOfDir(dir)), maxConnections: 4 });
    },
  },
];

const line = (message: string, level: LogLevel = 'INFO', timestamp?: string): NormalizedLogRequest =>
  parseLogRequest({ source: 'stdout', level, message, ...(timestamp === undefined ? {} : { timestamp }) });

describe.each(STORES)('search index on $name', (target) => {
  let dir: TempDir;
  let store: LogStore;
  let index: SearchIndex;

  const append = async (taskId: string, entries: NormalizedLogRequest[]) => {
    const result = await store.append(taskId, entries);
    index.advanced(taskId, result.lastSeq);
    return result;
  };
  const search = async (text: string, extra: Partial<SearchQuery> = {}) => {
    await index.settled();
    return index.search({ text, regex: false, limit: 100, budgetMs: 5000, ...extra });
  };
  const messages = (page: { results: { taskId: string; message: string }[] }) => page.results.map((r) => `${r.taskId}: ${r.message}`);

  beforeEach(async (context) => {
    if (target.unavailable !== undefined) context.skip();
    dir = await makeTempDir('keruta-search-');
    store = await target.create(dir.path);
    index = store.openSearchIndex();
  });
  afterEach(async () => {
    await index?.close();
    await store?.close();
    await dir?.remove();
  });

  it('finds a substring in every task, case-insensitively, newest first, as the entries every read returns', async () => {
    await append('build-1', [line('compiling module a'), line('error: Cannot find module "left-pad"', 'ERROR'), line('done')]);
    await append('build-2', [line('ERROR: cannot FIND module "right-pad"', 'ERROR'), line('all good')]);
    const page = await search('cannot find module');
    expect(messages(page)).toEqual(['build-2: ERROR: cannot FIND module "right-pad"', 'build-1: error: Cannot find module "left-pad"']);
    expect(page.nextCursor).toBeUndefined();
    const [first] = page.results;
    expect(first).toMatchObject({ id: 'build-2-1', seq: 1, taskId: 'build-2', source: 'stdout', level: 'ERROR', lineNumber: 1 });
    expect((await store.queryLogs('build-2', { page: 0, size: 1 }))?.content[0]).toEqual(first);
  });

  it('finds texts shorter than a trigram, and no line that does not hold the text', async () => {
    await append('t', [line('ok'), line('a 42 b'), line('x4y2')]);
    expect(messages(await search('42'))).toEqual(['t: a 42 b']);
    expect(messages(await search('nowhere'))).toEqual([]);
  });

  it('pages with a cursor, without a line twice or missed', async () => {
    await append('many', Array.from({ length: 250 }, (_, i) => line(`step ${i} failed`)));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await search('failed', { limit: 100, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.results.map((r) => r.message));
      cursor = page.nextCursor;
      if (cursor === undefined) break;
    }
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect(seen[0]).toBe('step 249 failed');
    expect(seen.at(-1)).toBe('step 0 failed');
  });

  it('narrows by the credential’s tasks and the search’s own, by level and by time', async () => {
    await append('build-1', [line('timeout reached', 'WARN', '2026-01-01T00:00:00.000Z'), line('timeout reached again', 'ERROR', '2026-01-02T00:00:00.000Z')]);
    await append('deploy-1', [line('timeout reached', 'ERROR', '2026-01-02T00:00:00.000Z')]);
    await append('secret-1', [line('timeout reached', 'ERROR')]);
    expect(messages(await search('timeout', { allowedTasks: ['build-*', 'deploy-*'] }))).toEqual([
      'deploy-1: timeout reached',
      'build-1: timeout reached again',
      'build-1: timeout reached',
    ]);
    expect(messages(await search('timeout', { allowedTasks: ['build-*', 'deploy-*'], taskPatterns: ['deploy-*', 'secret-*'] }))).toEqual(['deploy-1: timeout reached']);
    expect(messages(await search('timeout', { allowedTasks: ['nothing-*'] }))).toEqual([]);
    expect(messages(await search('timeout', { taskPatterns: ['build-1'], levels: ['ERROR'] }))).toEqual(['build-1: timeout reached again']);
    expect(messages(await search('timeout', { taskPatterns: ['build-1'], toMs: Date.parse('2026-01-01T12:00:00Z') }))).toEqual(['build-1: timeout reached']);
  });

  it('matches a regular expression, and refuses one that could backtrack without bound', async () => {
    await append('t', [line('took 125 ms'), line('took many ms'), line('TOOK 7 ms')]);
    expect(messages(await search('took \\d+ ms', { regex: true }))).toEqual(['t: took 125 ms']);
    await expect(search('(a+)+$', { regex: true })).rejects.toMatchObject({ code: 'INVALID_LOG_FORMAT' });
    await expect(search('(unclosed', { regex: true })).rejects.toMatchObject({ code: 'INVALID_LOG_FORMAT' });
  });

  it('stops showing deleted lines', async () => {
    await append('gone', [line('remove me please')]);
    await append('kept', [line('remove me please')]);
    expect(messages(await search('remove me'))).toHaveLength(2);
    await store.deleteLogs('gone');
    index.deleted('gone');
    expect(messages(await search('remove me'))).toEqual(['kept: remove me please']);
  });

  it('takes in, when opened again, the lines stored while it was closed', async (context) => {
    if (target.name === 'sqlite in memory') context.skip();
    await append('before', [line('indexed at once')]);
    await index.settled();
    await index.close();
    // Stored while no index listens (keruta-api down between the two, or before the index existed).
    await store.append('after', [line('indexed on the next start')]);
    index = store.openSearchIndex();
    expect(messages(await search('indexed'))).toEqual(['after: indexed on the next start', 'before: indexed at once']);
  });
});

describe('patterns', () => {
  it('accepts patterns whose groups do not nest repetition', () => {
    for (const ok of ['took \\d+ ms', '^error( TS\\d+)?:', '[a-z]+\\.c:\\d+:\\d+', '(foo|bar)baz', 'a{2,3}b', '(ab)+c']) expect(() => assertBoundedPattern(ok)).not.toThrow();
  });
  it('refuses nested repetition, alternation under repetition, back-references and lookarounds', () => {
    for (const bad of ['(a+)+', '(a*)*b', '(a|aa)+', '((ab)+)*', '(a)\\1', '(?=x)y', '(?<!x)y']) expect(() => assertBoundedPattern(bad), bad).toThrow(/q:/);
  });
  it('knows the texts a match must contain', () => {
    expect(requiredLiterals('took \\d+ ms')).toEqual(['took ', ' ms']);
    expect(requiredLiterals('error TS\\d+: cannot')).toEqual(['error TS', ': cannot']);
    expect(requiredLiterals('foo|barbaz')).toEqual([]);
    expect(requiredLiterals('colou?r name')).toEqual(['colo', 'r name']);
    expect(requiredLiterals('a\\.b\\.cde')).toEqual(['a.b.cde']);
  });
});
