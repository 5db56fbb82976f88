// Builds the SQL condition of an EntryFilter, with its parameters; never interpolates a value.
import type { EntryFilter } from '../log-store.js';

/** Registered by open-database.ts: a Unicode-aware case-insensitive "contains". */
export const CONTAINS_IGNORING_CASE = 'keruta_contains_ignoring_case';

export interface SqlCondition {
  /** Empty, or " AND …" to follow a WHERE that already has a condition. */
  sql: string;
  params: (string | number)[];
}

export function conditionOfFilter(filter: EntryFilter): SqlCondition {
  let sql = '';
  const params: (string | number)[] = [];
  if (filter.sources !== undefined && filter.sources.length > 0) {
    sql += ` AND source IN (${placeholders(filter.sources.length)})`;
    params.push(...filter.sources);
  }
  if (filter.levels !== undefined && filter.levels.length > 0) {
    sql += ` AND level IN (${placeholders(filter.levels.length)})`;
    params.push(...filter.levels);
  }
  if (filter.fromMs !== undefined) {
    sql += ' AND time_ms >= ?';
    params.push(filter.fromMs);
  }
  if (filter.toMs !== undefined) {
    sql += ' AND time_ms <= ?';
    params.push(filter.toMs);
  }
  if (filter.text !== undefined && filter.text !== '') {
    const needle = filter.text.toLowerCase();
    // instr is a plain substring test, so `%`, `_` and `\` in the text need no escaping.
    // SQLite's lower() folds ASCII only; that is exact for an ASCII needle (a non-ASCII
    // character can never equal an ASCII one), and the slower JS function covers the rest.
    sql += isAscii(needle) ? ' AND instr(lower(message), ?) > 0' : ` AND ${CONTAINS_IGNORING_CASE}(message, ?)`;
    params.push(needle);
  }
  return { sql, params };
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
