// Picks the LogStore from KERUTA_DATABASE_URL: one row per dialect, chosen by the URL's scheme.
import { KerutaError } from '@keruta/protocol';
import type { LogStore } from './log-store.js';
import { createPostgresLogStore } from './postgres/postgres-log-store.js';
import { createSqliteLogStore } from './sqlite/sqlite-log-store.js';

export interface LogStoreOptions {
  /** Longest message stored; a longer one is cut and marked `metadata.truncated`. */
  maxMessageLength?: number;
}

interface Dialect {
  schemes: readonly string[];
  /** `rest` is the URL after "scheme:". */
  open(rest: string, url: string, options: LogStoreOptions): Promise<LogStore>;
}

const DIALECTS: readonly Dialect[] = [
  {
    schemes: ['sqlite'],
    async open(rest, url, options) {
      const path = sqlitePathOf(rest);
      if (path === '') throw invalidUrl(url, 'sqlite: needs a file path, e.g. sqlite:./data/keruta.db');
      return createSqliteLogStore(
        options.maxMessageLength === undefined ? { path } : { path, maxMessageLength: options.maxMessageLength },
      );
    },
  },
  {
    schemes: ['postgres', 'postgresql'],
    // The URL goes to node-postgres whole; errors name the failure, never the URL (it may hold a password).
    open: (_rest, url, options) =>
      createPostgresLogStore(
        options.maxMessageLength === undefined ? { url } : { url, maxMessageLength: options.maxMessageLength },
      ),
  },
];

/**
 * `sqlite:./data/keruta.db`, `sqlite:/abs/path.db`, `sqlite::memory:`; `sqlite://` and
 * `sqlite:///abs` are read the same way, as users of other tools may write them.
 */
export async function createLogStore(url: string, options: LogStoreOptions = {}): Promise<LogStore> {
  const colon = url.indexOf(':');
  const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : '';
  const dialect = DIALECTS.find((d) => d.schemes.includes(scheme));
  if (dialect === undefined) throw invalidUrl(url, 'it must start with sqlite: or postgres://');
  return dialect.open(url.slice(colon + 1), url, options);
}

function sqlitePathOf(rest: string): string {
  return rest.startsWith('//') ? rest.slice(2) : rest;
}

function invalidUrl(url: string, why: string): KerutaError {
  // Only the scheme is echoed: the rest of a database URL may hold a password.
  const shown = url.includes('://') ? `${url.slice(0, url.indexOf('://'))}://…` : url;
  return new KerutaError('DATABASE_ERROR', `KERUTA_DATABASE_URL "${shown}" is not usable: ${why}`);
}
