// Whether keruta-api can store what it is sent: a store that answers pings but fails every write
// (a full disk, a read-only file, a broken trigger) must show in /health, not only in the agents'
// spools. Down after a few failed appends in a row; up again on the first one stored.
import { isKerutaError } from '@keruta/protocol';

/** Failed appends in a row, none stored between, before /health says the store cannot write. */
export const FAILED_WRITES_BEFORE_DOWN = 3;
/**
 * A failure streak older than this, with nothing tried since, no longer says the store is down:
 * a server taken out of a load balancer for it would otherwise never be tried again.
 */
export const FAILED_WRITES_MEMORY_MS = 30_000;

export interface WriteHealth {
  stored(): void;
  failed(error: unknown): void;
  check(now?: number): { status: 'up' | 'down'; message: string };
}

export function createWriteHealth(): WriteHealth {
  let streak = 0;
  let since = 0;
  let lastFailure = 0;
  let reason = '';
  return {
    stored() {
      streak = 0;
    },
    failed(error) {
      const now = Date.now();
      if (streak === 0) since = now;
      streak += 1;
      lastFailure = now;
      reason = isKerutaError(error) ? error.message : 'unexpected failure';
    },
    check(now = Date.now()) {
      if (streak >= FAILED_WRITES_BEFORE_DOWN && now - lastFailure < FAILED_WRITES_MEMORY_MS) {
        return { status: 'down', message: `the last ${streak} writes failed, since ${new Date(since).toISOString()}: ${reason}` };
      }
      return { status: 'up', message: streak > 0 ? `the last ${streak} writes failed: ${reason}` : 'writes stored' };
    },
  };
}
