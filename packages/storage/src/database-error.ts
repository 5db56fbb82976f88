// Turns whatever a database driver throws into the one DATABASE_ERROR users see (PROTOCOL.md §2).
import { KerutaError, isKerutaError } from '@keruta/protocol';

/**
 * The message names the operation and the driver's error code, never the SQL or the values:
 * it may reach a client. The driver's error stays attached as `cause` for the server's log.
 */
export function toDatabaseError(operation: string, cause: unknown): KerutaError {
  if (isKerutaError(cause)) return cause;
  return new KerutaError('DATABASE_ERROR', `the log store could not ${operation} (${reasonOf(cause)})`, { cause });
}

function reasonOf(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  if (cause instanceof Error) {
    // better-sqlite3 throws a plain TypeError, without a code, once the connection is closed.
    if (/not open/i.test(cause.message)) return 'the database is closed';
    // node-postgres's own errors carry no code either; their messages name no SQL and no password.
    if (/connection terminated|connection error|not queryable/i.test(cause.message)) return 'the connection to the database was lost';
    if (/timeout exceeded when trying to connect/i.test(cause.message)) return 'timed out connecting to the database';
  }
  return 'unexpected failure';
}
