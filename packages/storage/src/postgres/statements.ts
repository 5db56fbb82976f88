// Every fixed statement the PostgreSQL store runs. Each has a name, so node-postgres prepares it
// once per connection and later runs skip the parse and plan.
import type { TaskRow } from './row-mapping.js';
import { LOG_COLUMNS } from './row-mapping.js';

export interface Statement {
  name: string;
  text: string;
}

const TASK_COLUMNS = [
  'task_id',
  'last_seq',
  'total_logs',
  'count_stdout',
  'count_stderr',
  'count_agent',
  'count_debug',
  'count_info',
  'count_warn',
  'count_error',
  'min_time_ms',
  'max_time_ms',
  'next_line_stdout',
  'next_line_stderr',
  'next_line_agent',
  'status',
  'exit_code',
  'started_at',
  'finished_at',
  'updated_at',
] as const satisfies readonly (keyof TaskRow)[];

/** The parameters of UPDATE_TASK: a whole TaskRow, in the order of TASK_COLUMNS. */
export function taskRowValues(row: TaskRow): (string | number | null)[] {
  return TASK_COLUMNS.map((column) => row[column]);
}

const statement = (name: string, text: string): Statement => ({ name: `keruta_${name}`, text });

export const SELECT_TASK = statement('select_task', 'SELECT * FROM tasks WHERE task_id = $1');

/** The writers of one task queue here, on every instance, until the holder commits. */
export const LOCK_TASK = statement('lock_task', 'SELECT * FROM tasks WHERE task_id = $1 FOR UPDATE');

/** A new task's row, so that LOCK_TASK has something to lock; two instances may race to it. */
export const CREATE_TASK = statement(
  'create_task',
  'INSERT INTO tasks (task_id, updated_at) VALUES ($1, $2) ON CONFLICT (task_id) DO NOTHING',
);

export const UPDATE_TASK = statement(
  'update_task',
  `UPDATE tasks SET ${TASK_COLUMNS.slice(1)
    .map((column, i) => `${column} = $${i + 2}`)
    .join(', ')} WHERE task_id = $1`,
);

/**
 * The (runId, runSeq) pairs the task already holds within each run's range of runSeqs in the
 * batch: one range read of the run index per run, in one statement ($2 runIds, $3 and $4 the
 * lowest and highest runSeq of each).
 */
export const HELD_RUN_SEQS = statement(
  'held_run_seqs',
  `SELECT l.run_id, l.run_seq
     FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS r (run_id, low, high)
     JOIN logs l ON l.task_id = $1 AND l.run_id = r.run_id AND l.run_seq BETWEEN r.low AND r.high`,
);

/** COPY's text format, one line per row, columns in this order. */
export const COPY_LOGS =
  'COPY logs (task_id, seq, time_ms, source, level, message, line_number, metadata, run_id, run_seq) FROM STDIN';

/**
 * The task's row with the seq of its first entry (null when it has none), which tells whether its
 * seqs are contiguous: one round trip for what a page by number and a tail need first.
 */
export const SELECT_TASK_AND_FIRST_SEQ = statement(
  'select_task_and_first_seq',
  `SELECT t.*, (SELECT l.seq FROM logs l WHERE l.task_id = t.task_id ORDER BY l.seq LIMIT 1) AS first_seq
     FROM tasks t WHERE t.task_id = $1`,
);

/** $1 task, $2 after seq, $3 limit: one range read of the primary key. */
export const PAGE_AFTER_SEQ = statement(
  'page_after_seq',
  `SELECT ${LOG_COLUMNS} FROM logs WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
);

/** The time range of the entries past a seq: those a delete that stopped at that seq left alone. */
export const TIME_RANGE_AFTER = statement(
  'time_range_after',
  'SELECT min(time_ms) AS min, max(time_ms) AS max FROM logs WHERE task_id = $1 AND seq > $2',
);

/**
 * One chunk of a delete: the next $5 entries after seq $2 up to seq $3 (a primary-key range, so
 * the chunk costs the same wherever it is), of which those older than $4 go. Answers one row per
 * (source, level) deleted, and one 'window' row: the chunk's last seq and the time range of the
 * entries it kept.
 */
export const DELETE_CHUNK = statement(
  'delete_chunk',
  `WITH chunk AS (
     SELECT seq, time_ms FROM logs WHERE task_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $5
   ), gone AS (
     DELETE FROM logs l USING chunk
      WHERE l.task_id = $1 AND l.seq = chunk.seq AND chunk.time_ms < $4
     RETURNING l.source, l.level
   )
   SELECT 'gone' AS kind, source, level, count(*) AS n, NULL::bigint AS last_seq,
          NULL::bigint AS kept_min, NULL::bigint AS kept_max
     FROM gone GROUP BY source, level
   UNION ALL
   SELECT 'window', NULL, NULL, count(*), max(seq),
          min(time_ms) FILTER (WHERE time_ms >= $4), max(time_ms) FILTER (WHERE time_ms >= $4)
     FROM chunk`,
);

export const LIST_TASKS = statement(
  'list_tasks',
  'SELECT * FROM tasks ORDER BY updated_at DESC, task_id LIMIT $1 OFFSET $2',
);

export const COUNT_TASKS = statement('count_tasks', 'SELECT count(*) AS n FROM tasks');

export const PING = statement('ping', 'SELECT 1');
