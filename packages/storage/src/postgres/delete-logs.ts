// LogStore.deleteLogs for PostgreSQL: the task's entries go in chunks, each in a transaction of its own.
import type { LogLevel, LogSource } from '@keruta/protocol';
import type { PoolClient } from 'pg';
import { DELETE_CHUNK_SIZE, END_OF_TIME, widenRange, type TimeRange } from '../delete-chunks.js';
import { LEVEL_COUNT_COLUMN, SOURCE_COUNT_COLUMN, type TaskRow } from '../row-mapping.js';
import { CHUNK_END, DELETE_CHUNK, LOCK_TASK, SELECT_TASK, TIME_RANGE_AFTER, UPDATE_TASK, taskRowValues } from './statements.js';
import { READ_WRITE, transaction } from './transactions.js';

/** Two deletes of one task (retention and a user, on two instances) run one after the other. */
const DELETE_LOCK_NAMESPACE = 0x6b_64; // 'kd'

interface GoneRow {
  source: LogSource;
  level: LogLevel;
  n: number;
}

/**
 * Deletes the task's entries with a timestamp before `beforeMs` (all without it) and takes them
 * off the counters. The task row, its last_seq and its line counters stay, so neither a seq nor a
 * line number is ever handed out twice; its activity time stays too, so that retention does not
 * bring old tasks to the top of the list.
 *
 * Several transactions, not one: each chunk of DELETE_CHUNK_SIZE entries (a range of the primary
 * key) commits with its counters, so an append to the same task, which needs the task's row lock,
 * waits for one chunk at most instead of for the whole delete of a ten-million-line task, and no
 * transaction stays open for long (holding back vacuum). After every commit the counters match
 * the rows; a delete that fails halfway has deleted some chunks and can simply be run again.
 * Only the entries there when the delete began are considered: lines appended meanwhile stay.
 */
export async function deleteLogs(client: PoolClient, taskId: string, beforeMs: number | undefined): Promise<number | undefined> {
  // Session-level, so it spans the chunks' transactions; it goes with the connection if that breaks.
  await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [DELETE_LOCK_NAMESPACE, taskId]);
  try {
    const task = (await client.query<TaskRow>({ ...SELECT_TASK, values: [taskId] })).rows[0];
    if (task === undefined) return undefined;
    if (task.total_logs === 0 || task.min_time_ms === null) return 0;
    if (beforeMs !== undefined && beforeMs <= task.min_time_ms) return 0;

    const before = beforeMs === undefined ? END_OF_TIME : beforeMs;
    const upToSeq = task.last_seq;
    let afterSeq = 0;
    let deleted = 0;
    // The time range of what the chunks kept, so no scan of the whole task is needed at the end.
    let kept: TimeRange = { min: null, max: null };
    for (let last = false; !last; ) {
      deleted += await transaction(client, READ_WRITE, async () => {
        const row = (await client.query<TaskRow>({ ...LOCK_TASK, values: [taskId] })).rows[0];
        if (row === undefined) return 0;
        const end = (await client.query<{ seq: number }>(CHUNK_END, [taskId, afterSeq, upToSeq, DELETE_CHUNK_SIZE - 1])).rows[0]?.seq;
        last = end === undefined;
        const chunkEnd = end ?? upToSeq;
        let gone = 0;
        for (const { source, level, n } of (await client.query<GoneRow>(DELETE_CHUNK, [taskId, afterSeq, chunkEnd, before])).rows) {
          gone += n;
          row[SOURCE_COUNT_COLUMN[source]] -= n;
          row[LEVEL_COUNT_COLUMN[level]] -= n;
        }
        row.total_logs -= gone;
        // The last chunk's range runs on past upToSeq: the entries appended since the delete began count too.
        const range = (await client.query<TimeRange>(TIME_RANGE_AFTER, [taskId, afterSeq, last ? null : chunkEnd])).rows[0];
        kept = widenRange(kept, range);
        if (last) {
          row.min_time_ms = kept.min;
          row.max_time_ms = kept.max;
        }
        if (gone > 0 || last) await client.query({ ...UPDATE_TASK, values: taskRowValues(row) });
        afterSeq = chunkEnd;
        return gone;
      });
    }
    return deleted;
  } finally {
    // When this fails the connection is broken, is destroyed, and the lock has gone with it.
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [DELETE_LOCK_NAMESPACE, taskId]).catch(() => undefined);
  }
}
