// The search index of the PostgreSQL store: a table of every line's text with pg_trgm's trigram
// index, in the store's database (so that every instance searches the same index), filled from
// the store's lines by whichever instance stored them, shortly after, off the write path. An
// instance that starts takes up what any task holds beyond the index (lines stored while no
// instance was indexing). Two instances indexing the same lines store them once.
import type { Pool } from 'pg';
import type { LogStore } from '../log-store.js';
import { entryAt, levelNumber, levelOfNumber, runSearch, type Candidate, type CandidateSource } from '../search/run-search.js';
import type { SearchIndex } from '../search/search-index.js';

/** "keruts": the advisory lock under which the index's tables are created. */
const SCHEMA_LOCK_KEY = 0x6b_65_72_75_74_73;
const BATCH = 2000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS search_tasks (
    task_id     text PRIMARY KEY,
    indexed_seq bigint NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS search_lines (
    id      bigserial PRIMARY KEY,
    task_id text NOT NULL,
    seq     bigint NOT NULL,
    time_ms bigint NOT NULL,
    level   smallint NOT NULL,
    message text NOT NULL,
    UNIQUE (task_id, seq)
  );
`;

/** LIKE's wildcards and escape, escaped: the text is looked for as it is. */
const likeOf = (text: string): string => `%${text.replace(/[\\%_]/g, '\\$&')}%`;

export function openPostgresSearchIndex(pool: Pool, store: LogStore): SearchIndex {
  /** Tasks with lines to index: the seq the store holds lines up to. */
  const wanted = new Map<string, number>();
  const ready = (async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
      await client.query(SCHEMA);
      await client.query('SAVEPOINT trigram');
      try {
        // pg_trgm is a trusted extension: the database's owner may create it.
        await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
        await client.query('CREATE INDEX IF NOT EXISTS search_lines_trigrams ON search_lines USING gin (message gin_trgm_ops)');
      } catch {
        // Without pg_trgm a search reads the lines' texts newest first, within its time budget.
        await client.query('ROLLBACK TO SAVEPOINT trigram');
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ task_id: string; last_seq: number }>(
      'SELECT t.task_id, t.last_seq FROM tasks t LEFT JOIN search_tasks s USING (task_id) WHERE t.last_seq > COALESCE(s.indexed_seq, 0)',
    );
    for (const row of rows) wanted.set(row.task_id, row.last_seq);
  })();
  // A failure shows in the first search; the store's own calls say what is wrong meanwhile.
  ready.catch(() => undefined);

  const indexed = new Map<string, number>();
  let running: Promise<void> | undefined;
  let closed = false;

  const indexedSeq = async (taskId: string): Promise<number> => {
    const known = indexed.get(taskId);
    if (known !== undefined) return known;
    const { rows } = await pool.query<{ indexed_seq: number }>('SELECT indexed_seq FROM search_tasks WHERE task_id = $1', [taskId]);
    return rows[0]?.indexed_seq ?? 0;
  };

  const step = async (): Promise<boolean> => {
    const next = wanted.entries().next().value;
    if (next === undefined) return false;
    const [taskId, upTo] = next;
    const from = await indexedSeq(taskId);
    const range = await store.readRange({ taskId, afterSeq: from, upToSeq: upTo, limit: BATCH });
    const through = range.done ? upTo : range.scannedTo;
    const e = range.entries;
    await pool.query(
      `WITH added AS (
         INSERT INTO search_lines (task_id, seq, time_ms, level, message)
         SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::smallint[], $5::text[])
         ON CONFLICT (task_id, seq) DO NOTHING
       )
       INSERT INTO search_tasks (task_id, indexed_seq) VALUES ($1, $6)
       ON CONFLICT (task_id) DO UPDATE SET indexed_seq = GREATEST(search_tasks.indexed_seq, EXCLUDED.indexed_seq)`,
      [taskId, e.map((x) => x.seq), e.map((x) => Date.parse(x.timestamp)), e.map((x) => levelNumber(x.level)), e.map((x) => x.message), through],
    );
    indexed.set(taskId, through);
    wanted.delete(taskId);
    if (through < upTo) wanted.set(taskId, upTo);
    return true;
  };

  const run = (): Promise<void> =>
    (running ??= (async () => {
      try {
        await ready;
        while (!closed && (await step())) await new Promise((resolve) => setImmediate(resolve));
      } catch {
        // The database failed under the indexer: the next append tries again.
      } finally {
        running = undefined;
      }
    })());

  const pending = (): number => {
    let n = 0;
    for (const [taskId, upTo] of wanted) n += Math.max(0, upTo - (indexed.get(taskId) ?? 0));
    return n;
  };

  const source: CandidateSource = {
    async candidates(required, beforeId, limit, taskIds) {
      await ready;
      const values: unknown[] = [beforeId, limit];
      let where = 'id < $1';
      if (required.length > 0) {
        values.push(required.map(likeOf));
        where += ` AND message ILIKE ALL($${values.length})`;
      }
      if (taskIds !== undefined) {
        values.push(taskIds);
        where += ` AND task_id = ANY($${values.length})`;
      }
      const { rows } = await pool.query<{ id: number; task_id: string; seq: number; time_ms: number; level: number; message: string }>(
        `SELECT id, task_id, seq, time_ms, level, message FROM search_lines WHERE ${where} ORDER BY id DESC LIMIT $2`,
        values,
      );
      const found: Candidate[] = rows.map((r) => ({ id: r.id, taskId: r.task_id, seq: r.seq, timeMs: r.time_ms, level: levelOfNumber(r.level), message: r.message }));
      return { found, count: rows.length, lowestId: rows.at(-1)?.id };
    },
    entry: (candidate) => entryAt(store, candidate),
    taskIds: async () => {
      await ready;
      return (await pool.query<{ task_id: string }>('SELECT task_id FROM search_tasks')).rows.map((r) => r.task_id);
    },
    pending,
  };

  return {
    advanced(taskId, lastSeq) {
      if (lastSeq > (wanted.get(taskId) ?? indexed.get(taskId) ?? 0)) wanted.set(taskId, lastSeq);
      void run();
    },
    deleted(taskId, beforeMs) {
      void ready
        .then(() =>
          beforeMs === undefined
            ? pool.query('DELETE FROM search_lines WHERE task_id = $1', [taskId])
            : pool.query('DELETE FROM search_lines WHERE task_id = $1 AND time_ms < $2', [taskId, beforeMs]),
        )
        // A line left in the index is skipped when read back from the store: only space is lost.
        .catch(() => undefined);
    },
    search: (query) => runSearch(source, query),
    async settled() {
      await ready;
      for (let left = pending(); !closed && left > 0; ) {
        await run();
        if (pending() >= left) return;
        left = pending();
      }
    },
    async close() {
      closed = true;
      await running;
    },
  };
}
