// The one LogStore interface every store (sqlite/, postgres/) implements, file for file.
import type {
  LogEntry,
  LogLevel,
  LogPage,
  LogQuery,
  LogSource,
  LogStats,
  NormalizedLogRequest,
  TaskPage,
  TaskSummary,
} from '@keruta/protocol';
import type { ErrorIndexPage, ErrorIndexQuery } from './error-index-plan.js';
import type { SearchIndex } from './search/search-index.js';

/** Which entries a read considers. Every field narrows; none given means all. */
export interface EntryFilter {
  sources?: readonly LogSource[];
  levels?: readonly LogLevel[];
  /** Inclusive bounds on the entry's timestamp, epoch milliseconds. */
  fromMs?: number;
  toMs?: number;
  /** Case-insensitive substring of the message; never a pattern. */
  text?: string;
}

export interface AppendResult {
  /** The entries this call stored, in `seq` order; duplicates are left out. */
  stored: LogEntry[];
  /** Entries whose (runId, runSeq) the task already had, with the same source and message. */
  duplicates: number;
  /**
   * Entries whose (runId, runSeq) the task already had with another source or message: not
   * stored either (the first one stands), but told apart from a resend, as they mean that
   * someone else wrote under this run's id.
   */
  conflicts: number;
  /** The task's highest `seq` after this call. */
  lastSeq: number;
  /** The task's summary when this call changed its status (an agent's `started`/`exited` event). */
  taskChanged?: TaskSummary;
}

export interface RangeQuery {
  taskId: string;
  /** Exclusive lower bound on `seq`. */
  afterSeq: number;
  /** Inclusive upper bound on `seq`: a reader that knows how far it wants to go gets no more. */
  upToSeq?: number;
  /** Most entries returned. */
  limit: number;
  filter?: EntryFilter;
  /**
   * Most seqs a filtered read looks at (the store's own bound when larger or absent): a caller
   * with a time budget per read, such as a search, asks for windows it can afford.
   */
  maxScan?: number;
}

export interface RangeResult {
  /** Matching entries in `seq` order. */
  entries: LogEntry[];
  /**
   * Everything up to this `seq` has been considered: the next read starts after it. Equal to
   * the last entry's `seq` when more matching entries follow it, else to the bound scanned to.
   * A store may scan a filtered read in bounded windows, so fewer than `limit` entries (even
   * none) does not mean the end: read on from `scannedTo` until `done`.
   */
  scannedTo: number;
  /** True when nothing past `scannedTo` (within `upToSeq`) remains. */
  done: boolean;
}

export interface AppendOptions {
  /**
   * Who writes (the credential's subject). The first writer of a run owns it: a later batch of
   * that run from another writer is refused with FORBIDDEN, whole. Undefined: no check.
   */
  writer?: string;
}

export interface LogStore {
  readonly kind: string;
  /**
   * Stores a task's entries in one transaction, assigning each the next `seq`. Entries that
   * carry a (runId, runSeq) the task already holds are skipped and counted as duplicates (or
   * conflicts, when their text differs).
   */
  append(taskId: string, entries: readonly NormalizedLogRequest[], options?: AppendOptions): Promise<AppendResult>;
  /** A page of the task's entries by `seq`; undefined when the task has never had a log. */
  queryLogs(taskId: string, query: LogQuery): Promise<LogPage | undefined>;
  /** Entries after a `seq`, for catching a subscriber up and for streaming exports. */
  readRange(query: RangeQuery): Promise<RangeResult>;
  /**
   * The `seq` after which the last `count` matching entries (up to `upToSeq`) begin: reading
   * from it gives a tail. 0 when there are fewer.
   */
  tailStart(taskId: string, count: number, upToSeq: number, filter?: EntryFilter): Promise<number>;
  stats(taskId: string): Promise<LogStats | undefined>;
  /**
   * The task's error index (errors, `::error::` annotations, `::group::` sections), kept by
   * append as lines arrive: counts, the first error and one page of each list. Undefined for
   * an unknown task.
   */
  errorIndex(query: ErrorIndexQuery): Promise<ErrorIndexPage | undefined>;
  /** Deletes the task's entries older than `beforeMs` (all without it); undefined for an unknown task. */
  deleteLogs(taskId: string, beforeMs?: number): Promise<number | undefined>;
  getTask(taskId: string): Promise<TaskSummary | undefined>;
  /**
   * Tasks, newest activity first; with `taskPatterns` (as a credential's `tasks`, `*` matching
   * any run of characters) only those whose id matches one, counted and paged as such.
   */
  listTasks(page: number, size: number, taskPatterns?: readonly string[]): Promise<TaskPage>;
  /** The task's highest `seq`, 0 for an unknown task. */
  lastSeq(taskId: string): Promise<number>;
  /**
   * The index that searches across tasks (GET /api/v1/search) read; the caller tells it when lines
   * are stored, and closes it before the store.
   */
  openSearchIndex(): SearchIndex;
  /** Throws when the store cannot answer; for /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
