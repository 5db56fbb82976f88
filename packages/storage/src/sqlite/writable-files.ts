// SQLite maps the -shm file into memory and writes through the mapping: when that file cannot be
// written (read-only, immutable, on a read-only mount) a write faults and the kernel ends the whole
// process with SIGBUS, with no log line. So the store checks that it may write its files at open,
// and the -shm before every read, write and checkpoint, and answers a DATABASE_ERROR naming the file
// instead. A change between the check and the write can still fault: that window is what is left.
import { closeSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import { KerutaError } from '@keruta/protocol';

/**
 * The files to check: at start the database file and the two SQLite keeps beside it in WAL mode
 * (a clear error for any of them); before each operation only the -shm, the one file SQLite maps
 * into memory — a failed write() to the others comes back as an SQLite error, not a signal — so
 * the check costs one open and close where a page of history is read.
 */
function filesOf(path: string, scope: 'all' | 'mapped'): string[] {
  return scope === 'all' ? [path, `${path}-wal`, `${path}-shm`] : [`${path}-shm`];
}

/** The first of the store's files that exists and cannot be opened for writing, with why. */
export function unwritableFile(path: string, scope: 'all' | 'mapped' = 'mapped'): { file: string; code: string } | undefined {
  for (const file of filesOf(path, scope)) {
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
 * Throws DATABASE_ERROR when a file of the store cannot be written. `atStart`: every file, named
 * by its whole path (for the operator); otherwise the -shm, named by its file name alone, as the
 * message may reach a client.
 */
export function assertWritable(path: string, options: { atStart?: boolean } = {}): void {
  const atStart = options.atStart === true;
  const unwritable = unwritableFile(path, atStart ? 'all' : 'mapped');
  if (unwritable === undefined) return;
  const name = atStart ? unwritable.file : basename(unwritable.file);
  throw new KerutaError(
    'DATABASE_ERROR',
    `the log store cannot write ${name} (${unwritable.code}): keruta-api writes the SQLite file and the -wal and -shm files beside it`,
  );
}
