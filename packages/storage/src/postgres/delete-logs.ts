// LogStore.deleteLogs for PostgreSQL: the task's entries go in chunks, each in a transaction of its own.
import type { LogLevel, LogSource } from '@keruta/protocol';
import type { PoolClient } from 'pg';
import { LEVEL_COUNT_COLUMN, SOURCE_COUNT_COLUMN, type TaskRow } from './row-mapping.js';
import { DELETE_CHUNK, LOCK_TASK, SELECT_TASK, TIME_RANGE_AFTER, UPDATE_TASK, taskRowValues } from './statements.js';
import { READ_WRITE, transaction } from './transactions.js';

/** Entries one chunk looks at: tens of milliseconds of work, whatever the size of the task. */
export const DELETE_CHUNK_SIZE = 10_000;

/** Beyond every epoch-ms timestamp: "before" for a delete of everything. */
const END_OF_TIME = Number.MAX_SAFE_INTEGER;

/** Two deletes of one task (retention and a user, on two instances) run one after the other. */
const DELETE_LOCK_NAMESPACE = 0x6b_64; // 'kd'

interface ChunkRow {
  kind: 'gone' | 'window';
  source: LogSource | null;
  level: LogLevel | null;
  n: number;
  last_seq: number | null;
  kept_min: number | null;
  kept_max: number | null;
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
    let keptMin: number | null = null;
    let keptMax: number | null = null;
    for (;;) {
      const chunk = await transaction(client, READ_WRITE, async () => {
        const row = (await client.query<TaskRow>({ ...LOCK_TASK, values: [taskId] })).rows[0];
        if (row === undefined) return { scanned: 0, lastSeq: null };
        const { rows } = await client.query<ChunkRow>(DELETE_CHUNK, [taskId, afterSeq, upToSeq, before, DELETE_CHUNK_SIZE]);
        let scanned = 0;
        let lastSeq: number | null = null;
        let goneNow = 0;
        for (const r of rows) {
          if (r.kind === 'window') {
            scanned = r.n;
            lastSeq = r.last_seq;
            if (r.kept_min !== null && (keptMin === null || r.kept_min < keptMin)) keptMin = r.kept_min;
            if (r.kept_max !== null && (keptMax === null || r.kept_max > keptMax)) keptMax = r.kept_max;
          } else if (r.source !== null && r.level !== null) {
            goneNow += r.n;
            row[SOURCE_COUNT_COLUMN[r.source]] -= r.n;
            row[LEVEL_COUNT_COLUMN[r.level]] -= r.n;
          }
        }
        row.total_logs -= goneNow;
        const last = lastSeq === null || scanned < DELETE_CHUNK_SIZE;
        if (last) {
          // The entries appended since the delete began are past upToSeq: their times count too.
          const after = (await client.query<{ min: number | null; max: number | null }>(TIME_RANGE_AFTER, [taskId, upToSeq])).rows[0];
          row.min_time_ms = lowest(keptMin, after?.min ?? null);
          row.max_time_ms = highest(keptMax, after?.max ?? null);
        }
        if (goneNow > 0 || last) await client.query({ ...UPDATE_TASK, values: taskRowValues(row) });
        deleted += goneNow;
        return { scanned, lastSeq: last ? null : lastSeq };
      });
      if (chunk.lastSeq === null) break;
      afterSeq = chunk.lastSeq;
    }
    return deleted;
  } finally {
    // When this fails the connection is broken, is destroyed, and the lock has gone with it.
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [DELETE_LOCK_NAMESPACE, taskId]).catch(() => undefined);
  }
}

function lowest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function highest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}
