// The error index on SQLite: kept from append, inside its transaction, and read for a summary.
import type Database from 'better-sqlite3';
import type { LogEntry } from '@keruta/protocol';
import {
  errorIndexPage,
  planErrorIndex,
  touchesErrorIndex,
  type ErrorIndexPage,
  type ErrorIndexQuery,
  type ErrorRow,
  type GroupRow,
} from '../error-index-plan.js';

export interface ErrorIndex {
  /** Indexes lines just stored; call inside the append's transaction. */
  indexAppended(taskId: string, stored: readonly LogEntry[]): void;
  /** Undefined for an unknown task; call inside a read transaction. */
  read(query: ErrorIndexQuery): ErrorIndexPage | undefined;
}

const GROUP_COLUMNS = 'start_seq, end_seq, name, start_ms, end_ms, error_count';

export function prepareErrorIndex(db: Database.Database): ErrorIndex {
  const lastGroup = db.prepare<[string], GroupRow>(`SELECT ${GROUP_COLUMNS} FROM task_groups WHERE task_id = ? ORDER BY start_seq DESC LIMIT 1`);
  const insertError = db.prepare<[string, number, string, number]>('INSERT INTO task_errors (task_id, seq, kind, group_seq) VALUES (?, ?, ?, ?)');
  const writeGroup = db.prepare<[string, number, number | null, string, number, number | null, number]>(
    `INSERT OR REPLACE INTO task_groups (task_id, ${GROUP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const task = db.prepare<[string], { last_seq: number; total_logs: number; max_time_ms: number | null }>(
    'SELECT last_seq, total_logs, max_time_ms FROM tasks WHERE task_id = ?',
  );
  const holdsLine = db.prepare<[string, number], number>('SELECT 1 FROM logs WHERE task_id = ? AND seq = ?').pluck();
  const firstSeq = db.prepare<[string], number>('SELECT seq FROM logs WHERE task_id = ? ORDER BY seq LIMIT 1').pluck();
  const countErrors = db.prepare<[string, number], { kind: string; n: number }>(
    'SELECT kind, COUNT(*) AS n FROM task_errors WHERE task_id = ? AND seq >= ? GROUP BY kind',
  );
  const countGroups = db.prepare<[string, number], { n: number; failed: number }>(
    'SELECT COUNT(*) AS n, COALESCE(SUM(end_seq IS NOT NULL AND error_count > 0), 0) AS failed FROM task_groups WHERE task_id = ? AND start_seq >= ?',
  );
  const errorsAfter = db.prepare<[string, number, number], ErrorRow>(
    'SELECT seq, kind, group_seq FROM task_errors WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?',
  );
  const groupsAfter = db.prepare<[string, number, number], GroupRow>(
    `SELECT ${GROUP_COLUMNS} FROM task_groups WHERE task_id = ? AND start_seq > ? ORDER BY start_seq LIMIT ?`,
  );

  return {
    indexAppended(taskId, stored) {
      if (!touchesErrorIndex(stored)) return;
      const open = lastOpenGroup(lastGroup.get(taskId));
      // A section whose header a delete took is over: later lines are not counted in it.
      const changes = planErrorIndex(stored, open !== undefined && holdsLine.get(taskId, open.start_seq) !== undefined ? open : undefined);
      for (const row of changes.errors) insertError.run(taskId, row.seq, row.kind, row.group_seq);
      for (const g of changes.groups) writeGroup.run(taskId, g.start_seq, g.end_seq, g.name, g.start_ms, g.end_ms, g.error_count);
    },
    read({ taskId, errorsAfter: afterError, groupsAfter: afterGroup, limit }) {
      const row = task.get(taskId);
      if (row === undefined) return undefined;
      // Everything deleted: nothing of the index stands. Else only rows from the first stored line.
      const from = row.total_logs === 0 ? row.last_seq + 1 : (firstSeq.get(taskId) ?? row.last_seq + 1);
      const kinds = new Map(countErrors.all(taskId, from).map((c) => [c.kind, c.n]));
      const groups = countGroups.get(taskId, from) ?? { n: 0, failed: 0 };
      return errorIndexPage({
        lastSeq: row.last_seq,
        latestMs: row.max_time_ms,
        counts: {
          errors: kinds.get('error') ?? 0,
          annotations: kinds.get('annotation') ?? 0,
          groups: groups.n,
          failedGroups: groups.failed,
        },
        first: errorsAfter.get(taskId, from - 1, 1),
        errors: errorsAfter.all(taskId, Math.max(afterError, from - 1), limit + 1),
        groups: groupsAfter.all(taskId, Math.max(afterGroup, from - 1), limit + 1),
        limit,
      });
    },
  };
}

/** The last section is the open one, if it has no end: sections do not nest. */
function lastOpenGroup(row: GroupRow | undefined): GroupRow | undefined {
  return row !== undefined && row.end_seq === null ? row : undefined;
}
