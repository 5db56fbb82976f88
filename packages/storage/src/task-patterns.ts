// A credential's task-id patterns (`*` matches any run of characters, nothing else is special) in
// each dialect's own matching, so that a list of tasks is filtered, counted and paged in the query.

/** For SQLite's GLOB: `?` and `[` would be wildcards there, so each goes in brackets. */
export function toGlobPattern(pattern: string): string {
  return pattern.replace(/[?[\]]/g, '[$&]');
}

/** For PostgreSQL's LIKE with its default escape, the backslash: `%` and `_` are wildcards there. */
export function toLikePattern(pattern: string): string {
  return pattern.replace(/[\\%_]/g, '\\$&').replaceAll('*', '%');
}
