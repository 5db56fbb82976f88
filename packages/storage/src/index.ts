// The public entry of @keruta/storage: the LogStore interface and the stores behind it.
export type { AppendOptions, AppendResult, EntryFilter, LogStore, RangeQuery, RangeResult } from './log-store.js';
export { createLogStore, type LogStoreOptions } from './create-log-store.js';
export { createSqliteLogStore, type SqliteLogStoreOptions } from './sqlite/sqlite-log-store.js';
export { createPostgresLogStore, type PostgresLogStoreOptions } from './postgres/postgres-log-store.js';
export { filterOfQuery } from './entry-filter.js';
export type { ErrorIndexCounts, ErrorIndexPage, ErrorIndexQuery } from './error-index-plan.js';
export type { SearchHit, SearchIndex, SearchPage, SearchQuery } from './search/search-index.js';
