// Deletes entries older than KERUTA_RETENTION_DAYS, task by task, on a timer: one task's
// delete at a time so that writers wait at most for one short transaction.
import type { Logger } from 'pino';
import type { LogStore, SearchIndex } from '@keruta/storage';

export interface RetentionOptions {
  store: LogStore;
  /** Told of each task's delete, so that it drops what it holds of the lines. */
  search?: SearchIndex;
  days: number;
  logger: Logger;
  /** How often to sweep; hourly by default. */
  intervalMs?: number;
}

export interface Retention {
  /** One sweep over every task; resolves to the number of entries deleted. */
  sweep(): Promise<number>;
  stop(): void;
}

const PAGE = 500;

export function startRetention({ store, search, days, logger, intervalMs = 3_600_000 }: RetentionOptions): Retention {
  let running: Promise<number> | undefined;
  const sweep = async (): Promise<number> => {
    const cutoff = Date.now() - days * 86_400_000;
    let deleted = 0;
    for (let page = 0; ; page++) {
      const tasks = await store.listTasks(page, PAGE);
      for (const task of tasks.content) {
        const count = (await store.deleteLogs(task.taskId, cutoff)) ?? 0;
        if (count > 0) search?.deleted(task.taskId, cutoff);
        deleted += count;
      }
      if (page + 1 >= tasks.totalPages) break;
    }
    if (deleted > 0) logger.info({ deleted, olderThan: new Date(cutoff).toISOString() }, 'retention deleted old entries');
    return deleted;
  };
  const tick = (): void => {
    running ??= sweep()
      .catch((error: unknown) => {
        // The next sweep retries; a failing store is reported by /health meanwhile.
        logger.error({ err: error }, 'retention sweep failed');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return {
    sweep,
    stop: () => clearInterval(timer),
  };
}
