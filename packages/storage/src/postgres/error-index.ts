// The error index on PostgreSQL: kept from append, inside its transaction (under the task's row
// lock), and read for a summary.
import type { PoolClient } from 'pg';
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

const GROUP_COLUMNS = 'start_seq, end_seq, name, start_ms, end_ms, error_count';

/** Indexes lines just stored; call inside the append's transaction, which holds the task's lock. */
export async function indexAppended(client: PoolClient, taskId: string, stored: readonly LogEntry[]): Promise<void> {
  if (!touchesErrorIndex(stored)) return;
  // The last section is the open one, if it has no end (sections do not nest) and a delete has
  // not taken its header: then it is over, and later lines are not counted in it.
  const open = (
    await client.query<GroupRow>({
      text: `SELECT ${GROUP_COLUMNS} FROM (SELECT * FROM task_groups WHERE task_id = $1 ORDER BY start_seq DESC LIMIT 1) AS g
             WHERE end_seq IS NULL AND EXISTS (SELECT 1 FROM logs WHERE task_id = $1 AND seq = g.start_seq)`,
      values: [taskId],
    })
  ).rows[0];
  const changes = planErrorIndex(stored, open);
  if (changes.errors.length > 0) {
    await client.query({
      text: `INSERT INTO task_errors (task_id, seq, kind, group_seq)
             SELECT $1, seq, kind, group_seq FROM unnest($2::bigint[], $3::text[], $4::bigint[]) AS u (seq, kind, group_seq)`,
      values: [taskId, changes.errors.map((e) => e.seq), changes.errors.map((e) => e.kind), changes.errors.map((e) => e.group_seq)],
    });
  }
  for (const g of changes.groups) {
    await client.query({
      text: `INSERT INTO task_groups (task_id, ${GROUP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (task_id, start_seq) DO UPDATE SET end_seq = excluded.end_seq, end_ms = excluded.end_ms, error_count = excluded.error_count`,
      values: [taskId, g.start_seq, g.end_seq, g.name, g.start_ms, g.end_ms, g.error_count],
    });
  }
}

/** Undefined for an unknown task; call inside one snapshot. */
export async function readErrorIndex(client: PoolClient, query: ErrorIndexQuery): Promise<ErrorIndexPage | undefined> {
  const { taskId, limit } = query;
  const task = (
    await client.query<{ last_seq: number; total_logs: number; max_time_ms: number | null; first_seq: number | null }>({
      text: `SELECT last_seq, total_logs, max_time_ms, (SELECT seq FROM logs WHERE task_id = $1 ORDER BY seq LIMIT 1) AS first_seq
             FROM tasks WHERE task_id = $1`,
      values: [taskId],
    })
  ).rows[0];
  if (task === undefined) return undefined;
  // Everything deleted: nothing of the index stands. Else only rows from the first stored line.
  const from = task.total_logs === 0 || task.first_seq === null ? task.last_seq + 1 : task.first_seq;
  const kinds = new Map(
    (
      await client.query<{ kind: string; n: number }>({
        text: 'SELECT kind, COUNT(*)::int AS n FROM task_errors WHERE task_id = $1 AND seq >= $2 GROUP BY kind',
        values: [taskId, from],
      })
    ).rows.map((c) => [c.kind, c.n]),
  );
  const groups = (
    await client.query<{ n: number; failed: number }>({
      text: `SELECT COUNT(*)::int AS n, COUNT(*) FILTER (WHERE end_seq IS NOT NULL AND error_count > 0)::int AS failed
             FROM task_groups WHERE task_id = $1 AND start_seq >= $2`,
      values: [taskId, from],
    })
  ).rows[0] ?? { n: 0, failed: 0 };
  const errorsAfter = async (after: number, count: number) =>
    (
      await client.query<ErrorRow>({
        text: 'SELECT seq, kind, group_seq FROM task_errors WHERE task_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        values: [taskId, after, count],
      })
    ).rows;
  const groupRows = (
    await client.query<GroupRow>({
      text: `SELECT ${GROUP_COLUMNS} FROM task_groups WHERE task_id = $1 AND start_seq > $2 ORDER BY start_seq LIMIT $3`,
      values: [taskId, Math.max(query.groupsAfter, from - 1), limit + 1],
    })
  ).rows;
  return errorIndexPage({
    lastSeq: task.last_seq,
    latestMs: task.max_time_ms,
    counts: {
      errors: kinds.get('error') ?? 0,
      annotations: kinds.get('annotation') ?? 0,
      groups: groups.n,
      failedGroups: groups.failed,
    },
    first: (await errorsAfter(from - 1, 1))[0],
    errors: await errorsAfter(Math.max(query.errorsAfter, from - 1), limit + 1),
    groups: groupRows,
    limit,
  });
}
