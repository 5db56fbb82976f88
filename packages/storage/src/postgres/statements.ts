// Every fixed statement the PostgreSQL store runs. Those with a name are prepared once per
// connection, and after five runs PostgreSQL may keep one generic plan for all parameters: only
// statements whose every plan is a primary-key lookup get a name. The others are
// planned for their parameters each time (a generic plan of TIME_RANGE_AFTER, say, is a parallel
// seq scan of the whole table: measured 480 ms against 0.1 ms).
import { LOG_COLUMNS, TASK_COLUMNS, type TaskRow } from '../row-mapping.js';

export interface Statement {
  name: string;
  text: string;
}

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

const SPAN_COLUMNS = 'first_run_seq AS "firstRunSeq", last_run_seq AS "lastRunSeq", first_seq AS "firstSeq"';

/** The last span of run $2 (run-spans.ts): its end is the run's high-water mark. */
export const LAST_SPAN = statement(
  'last_span',
  `SELECT ${SPAN_COLUMNS} FROM run_spans WHERE task_id = $1 AND run_id = $2 ORDER BY first_run_seq DESC LIMIT 1`,
);

/** The spans of run $2 that hold any runSeq of [$3, $4] (spans are disjoint). */
export const SPANS_WITHIN = statement(
  'spans_within',
  `SELECT ${SPAN_COLUMNS} FROM run_spans
    WHERE task_id = $1 AND run_id = $2 AND first_run_seq <= $4 AND last_run_seq >= $3 ORDER BY first_run_seq`,
);

/** The task's lines of seqs [$2, $3], as the span look-up compares them: a primary-key range. */
export const SPAN_LINES = statement(
  'span_lines',
  'SELECT seq, source, message FROM logs WHERE task_id = $1 AND seq BETWEEN $2 AND $3',
);

/** New spans of run $2: firsts, lasts and first seqs as three arrays. */
export const INSERT_SPANS = statement(
  'insert_spans',
  `INSERT INTO run_spans (task_id, run_id, first_run_seq, last_run_seq, first_seq)
   SELECT $1, $2, f, l, s FROM unnest($3::bigint[], $4::bigint[], $5::bigint[]) AS t (f, l, s)`,
);

/** Sets the end of the span of run $2 that begins at $3 to $4. */
export const EXTEND_SPAN = statement(
  'extend_span',
  'UPDATE run_spans SET last_run_seq = $4 WHERE task_id = $1 AND run_id = $2 AND first_run_seq = $3',
);

/** Records $3 as the writer of run $2 unless the run has one, and answers the run's writer. */
export const CLAIM_RUN = statement(
  'claim_run',
  `WITH claimed AS (
     INSERT INTO runs (task_id, run_id, writer) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING writer
   )
   SELECT writer FROM claimed UNION ALL SELECT writer FROM runs WHERE task_id = $1 AND run_id = $2`,
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

/** $1 task, after seq $2, up to seq $3, $4 most rows: one range read of the primary key. */
export const PAGE_RANGE = statement(
  'page_range',
  `SELECT ${LOG_COLUMNS} FROM logs WHERE task_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
);

/**
 * A delete goes in chunks of consecutive seqs, each chunk a range of the primary key: no join
 * whose plan could turn into a walk of the whole task. CHUNK_END is the seq that ends the chunk
 * starting after $2 ($4 + 1 entries on, none past $3); no row means the chunk runs to $3.
 */
export const CHUNK_END = 'SELECT seq FROM logs WHERE task_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq OFFSET $4 LIMIT 1';

/** Deletes the chunk's entries older than $4; answers how many went per (source, level). */
export const DELETE_CHUNK = `WITH gone AS (
     DELETE FROM logs WHERE task_id = $1 AND seq > $2 AND seq <= $3 AND time_ms < $4 RETURNING source, level
   )
   SELECT source, level, count(*) AS n FROM gone GROUP BY source, level`;

/** The time range of the entries left after seq $2 (up to seq $3, or all without it). */
export const TIME_RANGE_AFTER =
  'SELECT min(time_ms) AS min, max(time_ms) AS max FROM logs WHERE task_id = $1 AND seq > $2 AND ($3::bigint IS NULL OR seq <= $3)';

export const LIST_TASKS = statement(
  'list_tasks',
  'SELECT * FROM tasks ORDER BY updated_at DESC, task_id LIMIT $1 OFFSET $2',
);

export const COUNT_TASKS = statement('count_tasks', 'SELECT count(*) AS n FROM tasks');

/** LIST_TASKS and COUNT_TASKS for the tasks whose id is LIKE one of the patterns $1. */
export const LIST_MATCHING_TASKS = statement(
  'list_matching_tasks',
  'SELECT * FROM tasks WHERE task_id LIKE ANY ($1::text[]) ORDER BY updated_at DESC, task_id LIMIT $2 OFFSET $3',
);
export const COUNT_MATCHING_TASKS = statement('count_matching_tasks', 'SELECT count(*) AS n FROM tasks WHERE task_id LIKE ANY ($1::text[])');

export const PING = statement('ping', 'SELECT 1');
