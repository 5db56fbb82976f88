// Builds the SQL condition of an EntryFilter, with its parameters; never interpolates a value.
import type { EntryFilter } from '../log-store.js';

/** Registered by open-database.ts: a Unicode-aware case-insensitive "contains". */
export const CONTAINS_IGNORING_CASE = 'keruta_contains_ignoring_case';

/** SQLite refuses LIKE patterns over 50,000 bytes; well below that a plain search does as well. */
const MAX_LIKE_TEXT = 10_000;

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
    const text = filter.text;
    if (!isAscii(text)) {
      // SQLite folds the case of ASCII letters only; a non-ASCII needle needs JS's toLowerCase.
      sql += ` AND ${CONTAINS_IGNORING_CASE}(message, ?)`;
      params.push(text.toLowerCase());
    } else if (text.length <= MAX_LIKE_TEXT) {
      // LIKE ignores ASCII case by itself and measured twice as fast as instr(lower(message), ?).
      sql += " AND message LIKE ? ESCAPE '\\'";
      params.push(`%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    } else {
      // Past SQLite's limit on the length of a LIKE pattern; instr needs no escaping.
      sql += ' AND instr(lower(message), ?) > 0';
      params.push(text.toLowerCase());
    }
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
