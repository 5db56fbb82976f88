// SQLite maps the -shm file into memory and writes through the mapping: when that file cannot be
// written (read-only, immutable, on a read-only mount) a write faults and the kernel ends the whole
// process with SIGBUS, with no log line. So the store checks, at open and before every write and
// checkpoint, that it may write each of its files, and answers a DATABASE_ERROR naming the file
// instead. A change between the check and the write can still fault: that window is what is left.
import { closeSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import { KerutaError } from '@keruta/protocol';

/** The database file and the two SQLite keeps beside it in WAL mode. */
function filesOf(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`];
}

/** The first of the store's files that exists and cannot be opened for writing, with why. */
export function unwritableFile(path: string): { file: string; code: string } | undefined {
  for (const file of filesOf(path)) {
    try {
      closeSync(openSync(file, 'r+'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      // Not there (yet): SQLite makes it, writable, when it needs it.
      if (code !== 'ENOENT') return { file, code };
    }
  }
  return undefined;
}

/**
 * Throws DATABASE_ERROR when a file of the store cannot be written. `fullPath` names the whole
 * path (for the operator at start-up); otherwise only the file's name, as it may reach a client.
 */
export function assertWritable(path: string, options: { fullPath?: boolean } = {}): void {
  const unwritable = unwritableFile(path);
  if (unwritable === undefined) return;
  const name = options.fullPath === true ? unwritable.file : basename(unwritable.file);
  throw new KerutaError(
    'DATABASE_ERROR',
    `the log store cannot write ${name} (${unwritable.code}): keruta-api writes the SQLite file and the -wal and -shm files beside it`,
  );
}
