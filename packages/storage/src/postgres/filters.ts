// Builds the SQL condition of an EntryFilter for PostgreSQL, with its parameters; never
// interpolates a value.
import type { EntryFilter } from '../log-store.js';

export type SqlValue = string | number | null | readonly string[];

/** Parameters of one statement; `add` hands out the placeholder of the value it takes. */
export interface SqlParams {
  readonly values: SqlValue[];
  add(value: SqlValue): string;
}

export function sqlParams(...initial: SqlValue[]): SqlParams {
  const values = [...initial];
  return {
    values,
    add(value) {
      values.push(value);
      return `$${values.length}`;
    },
  };
}

/** Empty, or " AND …" to follow a WHERE that already has a condition. */
export function conditionOfFilter(filter: EntryFilter, params: SqlParams): string {
  let sql = '';
  if (filter.sources !== undefined && filter.sources.length > 0) sql += ` AND source = ANY(${params.add(filter.sources)}::text[])`;
  if (filter.levels !== undefined && filter.levels.length > 0) sql += ` AND level = ANY(${params.add(filter.levels)}::text[])`;
  if (filter.fromMs !== undefined) sql += ` AND time_ms >= ${params.add(filter.fromMs)}`;
  if (filter.toMs !== undefined) sql += ` AND time_ms <= ${params.add(filter.toMs)}`;
  if (filter.text !== undefined && filter.text !== '') {
    // ILIKE folds case by the database's LC_CTYPE (C.UTF-8 and the *.UTF-8 locales fold every
    // script; a database created with the plain "C" locale folds ASCII only). Backslash is
    // ILIKE's default escape, so % _ and \ in the text are matched as themselves.
    sql += ` AND message ILIKE ${params.add(`%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`;
  }
  return sql;
}
