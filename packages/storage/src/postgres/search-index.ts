// The search index of the PostgreSQL store: a table of every line's text with pg_trgm's trigram
// index, in the store's database (so that every instance searches the same index), filled from
// the store's lines by whichever instance stored them, shortly after, off the write path. An
// instance that starts takes up what any task holds beyond the index (lines stored while no
// instance was indexing). Two instances indexing the same lines store them once.
import type { Pool } from 'pg';
import type { LogStore } from '../log-store.js';
import { entryAt, levelNumber, levelOfNumber, runSearch, type Candidate, type CandidateSource } from '../search/run-search.js';
import { createIndexer, indexInBackground, INDEX_BATCH, type IndexWriter } from '../search/indexer.js';
import type { SearchIndex } from '../search/search-index.js';

/** "keruts": the advisory lock under which the index's tables are created. */
const SCHEMA_LOCK_KEY = 0x6b_65_72_75_74_73;

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

const writer = (pool: Pool): IndexWriter => ({
  async indexedSeq(taskId) {
    const { rows } = await pool.query<{ indexed_seq: number }>('SELECT indexed_seq FROM search_tasks WHERE task_id = $1', [taskId]);
    return rows[0]?.indexed_seq ?? 0;
  },
  async store(taskId, entries, throughSeq) {
    await pool.query(
      `WITH added AS (
         INSERT INTO search_lines (task_id, seq, time_ms, level, message)
         SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::smallint[], $5::text[])
         ON CONFLICT (task_id, seq) DO NOTHING
       )
       INSERT INTO search_tasks (task_id, indexed_seq) VALUES ($1, $6)
       ON CONFLICT (task_id) DO UPDATE SET indexed_seq = GREATEST(search_tasks.indexed_seq, EXCLUDED.indexed_seq)`,
      [taskId, entries.map((e) => e.seq), entries.map((e) => Date.parse(e.timestamp)), entries.map((e) => levelNumber(e.level)), entries.map((e) => e.message), throughSeq],
    );
  },
});

export function openPostgresSearchIndex(pool: Pool, store: LogStore): SearchIndex {
  const indexer = createIndexer(writer(pool), async (taskId, afterSeq, upToSeq) => {
    const range = await store.readRange({ taskId, afterSeq, upToSeq, limit: INDEX_BATCH });
    return { entries: range.entries, through: range.done ? upToSeq : range.scannedTo };
  });
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
    for (const row of rows) indexer.advanced(row.task_id, row.last_seq);
  })();
  // A failure shows in the first search; the store's own calls say what is wrong meanwhile.
  ready.catch(() => undefined);

  const background = indexInBackground(indexer, ready);

  const source: CandidateSource = {
    // ILIKE looks for the texts themselves, through the trigram index when there is one.
    terms: (required) => required,
    async candidates(terms, beforeId, limit, taskIds) {
      await ready;
      const values: unknown[] = [beforeId, limit];
      let where = 'id < $1';
      if (terms.length > 0) {
        values.push(terms.map(likeOf));
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
    pending: () => indexer.pending(),
  };

  return {
    advanced(taskId, lastSeq) {
      indexer.advanced(taskId, lastSeq);
      background.kick();
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
    settled: () => background.settled(),
    close: () => background.close(),
  };
}
