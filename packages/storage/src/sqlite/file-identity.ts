// Notices when the database file was deleted or replaced under an open connection.
import { statSync } from 'node:fs';
import { KerutaError } from '@keruta/protocol';
import { MEMORY_PATH } from './open-database.js';
import { assertWritable } from './writable-files.js';

export interface FileIdentity {
  /**
   * Throws DATABASE_ERROR when the path no longer names the file that was opened, or when a file
   * of the store can no longer be written (writable-files.ts).
   */
  assertUnchanged(): void;
}

/**
 * SQLite keeps writing to a file that was unlinked while open: every commit would succeed and
 * be acknowledged, then vanish at the next start. One stat() per write (a few microseconds
 * against a batch's milliseconds) turns that into an error the agent retries on.
 */
export function captureFileIdentity(path: string): FileIdentity {
  if (path === MEMORY_PATH || path === '') return { assertUnchanged() {} };
  const opened = statSync(path);
  return {
    assertUnchanged() {
      const current = statSync(path, { throwIfNoEntry: false });
      if (current === undefined || current.ino !== opened.ino || current.dev !== opened.dev) {
        throw new KerutaError('DATABASE_ERROR', 'the log store\'s database file was removed or replaced while open');
      }
      assertWritable(path);
    },
  };
}
