// The SQLite search index: a file of its own beside the store's (`<file>.search`), so that
// indexing never takes the store's write lock. FTS5's trigram tokenizer over every message,
// contentless (the text stays in the store only; a candidate is read back from it and checked),
// `detail=none` (the smallest index: a match of the trigrams, checked on the line itself).
// The rowid is the order lines were indexed in, i.e. stored: newest first is rowid descending.
import Database from 'better-sqlite3';
import type { LogEntry } from '@keruta/protocol';
import type { IndexWriter } from '../search/indexer.js';
import { levelNumber } from '../search/run-search.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS tasks (
    num         INTEGER PRIMARY KEY,
    task_id     TEXT NOT NULL UNIQUE,
    indexed_seq INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS refs (
    id       INTEGER PRIMARY KEY,
    task_num INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    time_ms  INTEGER NOT NULL,
    level    INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS refs_by_task ON refs (task_num, time_ms);
  CREATE VIRTUAL TABLE IF NOT EXISTS lines USING fts5(message, content='', contentless_delete=1, tokenize='trigram', detail='none');
`;

export interface Ref {
  id: number;
  task_num: number;
  seq: number;
  time_ms: number;
  level: number;
}

export function openSearchDatabase(path: string): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}


export interface SearchWriter extends IndexWriter {
  indexedSeq(taskId: string): number;
  store(taskId: string, entries: readonly LogEntry[], throughSeq: number): void;
  /** Every task's indexed seq. */
  all(): Map<string, number>;
  /** Drops the task's lines older than `beforeMs` (all without it); the store deleted them. */
  forget(taskId: string, beforeMs: number | undefined): void;
}

/** Writes into the index: one task's next lines at a time, each batch in one transaction. */
export function createSearchWriter(db: Database.Database): SearchWriter {
  const taskNum = db.prepare<[string], number>('SELECT num FROM tasks WHERE task_id = ?').pluck();
  const addTask = db.prepare<[string]>('INSERT INTO tasks (task_id) VALUES (?)');
  const indexedSeq = db.prepare<[string], number>('SELECT indexed_seq FROM tasks WHERE task_id = ?').pluck();
  const setIndexed = db.prepare<[number, number]>('UPDATE tasks SET indexed_seq = ? WHERE num = ?');
  const insertRef = db.prepare<[number, number, number, number]>('INSERT INTO refs (task_num, seq, time_ms, level) VALUES (?, ?, ?, ?)');
  const insertLine = db.prepare<[number | bigint, string]>('INSERT INTO lines (rowid, message) VALUES (?, ?)');
  const numOf = (taskId: string): number => {
    const found = taskNum.get(taskId);
    if (found !== undefined) return found;
    return Number(addTask.run(taskId).lastInsertRowid);
  };
  const store = db.transaction((taskId: string, entries: readonly LogEntry[], throughSeq: number) => {
    const num = numOf(taskId);
    for (const entry of entries) {
      const { lastInsertRowid } = insertRef.run(num, entry.seq, Date.parse(entry.timestamp), levelNumber(entry.level));
      insertLine.run(lastInsertRowid, entry.message);
    }
    setIndexed.run(throughSeq, num);
  });
  const forgetLines = db.prepare<[number, number]>('DELETE FROM lines WHERE rowid IN (SELECT id FROM refs WHERE task_num = ? AND time_ms < ?)');
  const forgetRefs = db.prepare<[number, number]>('DELETE FROM refs WHERE task_num = ? AND time_ms < ?');
  const forget = db.transaction((num: number, beforeMs: number) => {
    forgetLines.run(num, beforeMs);
    forgetRefs.run(num, beforeMs);
  });
  return {
    forget(taskId, beforeMs) {
      const num = taskNum.get(taskId);
      if (num !== undefined) forget(num, beforeMs ?? Number.MAX_SAFE_INTEGER);
    },
    indexedSeq: (taskId) => indexedSeq.get(taskId) ?? 0,
    store: (taskId, entries, throughSeq) => {
      store(taskId, entries, throughSeq);
    },
    all: () => new Map(db.prepare<[], { task_id: string; indexed_seq: number }>('SELECT task_id, indexed_seq FROM tasks').all().map((r) => [r.task_id, r.indexed_seq])),
  };
}

export interface SearchReader {
  tasks(): { num: number; task_id: string }[];
  /**
   * The `most` trigrams of `trigrams` that are rarest among the lines below `beforeId`: looking up
   * all of a long text's trigrams costs more than it narrows (every line holds "mod", "ule", …),
   * and a few rare ones find the same candidates ~50 times faster (the rest is checked on the line).
   */
  rarest(trigrams: readonly string[], beforeId: number, most: number): string[];
  /** Up to `limit` refs below `beforeId`, newest first, whose line holds every trigram (all refs without any). */
  candidates(trigrams: readonly string[], beforeId: number, limit: number): Ref[];
}

/** Lines a rarity probe looks at per trigram. */
const PROBE = 500;
const quoted = (trigram: string): string => `"${trigram.replaceAll('"', '""')}"`;

/** Reads from the index: candidates newest first, below a rowid. */
export function createSearchReader(db: Database.Database): SearchReader {
  const tasks = db.prepare<[], { num: number; task_id: string }>('SELECT num, task_id FROM tasks');
  const statements = new Map<number, Database.Statement<unknown[], Ref>>();
  const matching = (terms: number): Database.Statement<unknown[], Ref> => {
    let statement = statements.get(terms);
    if (statement === undefined) {
      statement =
        terms === 0
          ? db.prepare<unknown[], Ref>('SELECT id, task_num, seq, time_ms, level FROM refs WHERE id < ? ORDER BY id DESC LIMIT ?')
          : db.prepare<unknown[], Ref>(
              'SELECT r.id, r.task_num, r.seq, r.time_ms, r.level FROM lines JOIN refs r ON r.id = lines.rowid WHERE lines MATCH ? AND lines.rowid < ? ORDER BY lines.rowid DESC LIMIT ?',
            );
      statements.set(terms, statement);
    }
    return statement;
  };
  /** Where the PROBE-th newest line holding a trigram is: the further down, the rarer the trigram. */
  const probe = db.prepare<[string, number], { lowest: number | null; n: number }>(
    `SELECT min(rowid) AS lowest, count(*) AS n FROM (SELECT rowid FROM lines WHERE lines MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ${PROBE})`,
  );
  return {
    tasks: () => tasks.all(),
    rarest(trigrams, beforeId, most) {
      if (trigrams.length <= most) return [...trigrams];
      // Rarer first: held by fewer than PROBE lines (fewest first), else the PROBE-th holder furthest down.
      const rarity = trigrams.map((trigram) => {
        const found = probe.get(quoted(trigram), beforeId) ?? { lowest: null, n: 0 };
        return { trigram, few: found.n < PROBE, n: found.n, reach: beforeId - (found.lowest ?? 0) };
      });
      rarity.sort((a, b) => (a.few !== b.few ? (a.few ? -1 : 1) : a.few ? a.n - b.n : b.reach - a.reach));
      return rarity.slice(0, most).map((r) => r.trigram);
    },
    candidates(trigrams, beforeId, limit) {
      if (trigrams.length === 0) return matching(0).all(beforeId, limit);
      const match = trigrams.map(quoted).join(' AND ');
      return matching(1).all(match, beforeId, limit);
    },
  };
}
