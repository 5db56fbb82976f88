// The store's error index over the whole stored log (not only the lines the page holds), read
// through GET /summary: every error's seq and every section, read again, from where the last read
// ended, after live lines that move it.
import type { SummaryClient } from 'keruta-client';
import type { LogEntry, LogGroup, TaskLogSummary } from '@keruta/protocol';
import { isErrorAnnotation, isGroupEnd } from '@keruta/protocol';

/** Errors and sections per summary request: the most the server gives. */
const PAGE = 1000;
/** After live lines that change the index, the summary is read again at most this often, in ms. */
const REFRESH_GAP_MS = 1000;

export interface ErrorIndex {
  /** Reads the index; the summary, or undefined when the task has no log yet (or the read failed). */
  load(): Promise<TaskLogSummary | undefined>;
  /** The read under way, if one is. */
  readonly loading: Promise<TaskLogSummary | undefined> | undefined;
  /** The seqs of the log's errors and error annotations, ascending. */
  readonly errorSeqs: readonly number[];
  /** The log's last seq as of the last read (0 before one). */
  readonly lastSeq: number;
  /** The section whose header has this seq, as of the last read. */
  section(seq: number): LogGroup | undefined;
  /** New lines arrived: an error or a section's end among them means the index moved. */
  noteEntries(entries: readonly LogEntry[]): void;
}

/**
 * Every page of the summary from these cursors on: the first page (its counts and last seq), and
 * the error seqs and sections of them all. Undefined when the first read fails.
 */
async function readPages(
  summaries: SummaryClient,
  taskId: string,
  from: { errorsAfter: number; groupsAfter: number },
): Promise<{ first: TaskLogSummary; seqs: number[]; found: LogGroup[] } | undefined> {
  let first: TaskLogSummary;
  try {
    first = await summaries.getSummary(taskId, { context: 0, size: PAGE, ...from });
  } catch {
    // No log yet (TASK_NOT_FOUND) or the server cannot answer now: the page works without the
    // index, and reads it again when lines with errors arrive.
    return undefined;
  }
  const seqs = first.errors.map((e) => e.seq);
  const found: LogGroup[] = [...first.groups];
  let page = first;
  while (page.nextErrorsAfter !== null || page.nextGroupsAfter !== null) {
    page = await summaries.getSummary(taskId, {
      context: 0,
      size: PAGE,
      errorsAfter: page.nextErrorsAfter ?? Number.MAX_SAFE_INTEGER,
      groupsAfter: page.nextGroupsAfter ?? Number.MAX_SAFE_INTEGER,
    });
    seqs.push(...page.errors.map((e) => e.seq));
    found.push(...page.groups);
  }
  return { first, seqs, found };
}

export function createErrorIndex(options: {
  summaries: SummaryClient;
  taskId: string;
  /** After each read that succeeded. */
  onRead(): void;
}): ErrorIndex {
  const { summaries, taskId } = options;
  let errorSeqs: number[] = [];
  const groups = new Map<number, LogGroup>();
  let lastSeq = 0;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let loading: Promise<TaskLogSummary | undefined> | undefined;

  /** Set once a whole read succeeded: later reads go on from what is held. */
  let complete = false;

  /**
   * Reads every error's seq (for `n`/`N` and the minimap: 8 bytes each, a thousand per request)
   * and every section. Once held, a read for new lines asks only for errors after the last one
   * held and for sections from the last one held (the open one's end and duration move).
   */
  const readAll = async (): Promise<TaskLogSummary | undefined> => {
    const errorsFrom = complete ? (errorSeqs.at(-1) ?? 0) : 0;
    let lastGroup = 0;
    if (complete) for (const seq of groups.keys()) lastGroup = Math.max(lastGroup, seq);
    const read = await readPages(summaries, taskId, { errorsAfter: errorsFrom, groupsAfter: Math.max(0, lastGroup - 1) });
    if (read === undefined) return undefined;
    const { first, seqs, found } = read;
    // A delete may have taken lines: then the counts no longer add up, and everything is read again.
    const held = errorsFrom === 0 ? [] : errorSeqs;
    if (complete && held.length + seqs.length !== first.counts.errors + first.counts.annotations) {
      complete = false;
      return readAll();
    }
    errorSeqs = [...held, ...seqs];
    if (!complete) groups.clear();
    for (const group of found) groups.set(group.startSeq, group);
    complete = true;
    lastSeq = first.lastSeq;
    options.onRead();
    return first;
  };

  const load = (): Promise<TaskLogSummary | undefined> => {
    loading ??= readAll().finally(() => {
      loading = undefined;
    });
    return loading;
  };

  return {
    load,
    get loading() {
      return loading;
    },
    get errorSeqs() {
      return errorSeqs;
    },
    get lastSeq() {
      return lastSeq;
    },
    section: (seq) => groups.get(seq),
    noteEntries(entries) {
      if (refreshTimer !== undefined) return;
      const moves = entries.some((e) => e.level === 'ERROR' || isErrorAnnotation(e.message) || isGroupEnd(e.message));
      if (!moves) return;
      refreshTimer = setTimeout(() => {
        refreshTimer = undefined;
        void load();
      }, REFRESH_GAP_MS);
    },
  };
}
