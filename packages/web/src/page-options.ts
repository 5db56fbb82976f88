// What the address asks for: `?taskId=` (the usage guide's default `demo-task`), where to start
// (`tail`, `since`, or the line of `#L123`), the first search and filters, and the theme.
import { LOG_LEVELS, LOG_SOURCES, MAX_TAIL, TASK_ID_PATTERN, isLogLevel, isLogSource, type LogLevel, type LogSource } from '@keruta/protocol';

export const DEFAULT_TASK_ID = 'demo-task';
/** History shown first: the last lines of the log, then older ones as the list is scrolled up. */
export const DEFAULT_TAIL = 100_000;
/** Lines loaded above the line of a `#L123` address. */
export const LINK_CONTEXT = 1000;

export type StartPoint = { since: number } | { tail: number };

export interface PageOptions {
  taskId: string;
  /** A task id in the address that is not valid, reported on the page. */
  invalidTaskId: string | undefined;
  start: StartPoint;
  /** The seq of `#L123`, 0 for none. */
  lineSeq: number;
  query: string;
  sources: LogSource[];
  levels: LogLevel[];
  theme: 'dark' | 'light' | undefined;
}

export function readPageOptions(location: { search: string; hash: string }): PageOptions {
  const params = new URLSearchParams(location.search);
  const askedTask = params.get('taskId');
  const taskValid = askedTask === null || askedTask === '' || TASK_ID_PATTERN.test(askedTask);
  const lineSeq = lineFromHash(location.hash);
  return {
    taskId: askedTask !== null && askedTask !== '' && taskValid ? askedTask : DEFAULT_TASK_ID,
    invalidTaskId: taskValid ? undefined : (askedTask ?? undefined),
    start: startPoint(params, lineSeq),
    lineSeq,
    query: params.get('q') ?? '',
    sources: listParam(params.get('source'), isLogSource, [...LOG_SOURCES]),
    levels: listParam(params.get('level')?.toUpperCase() ?? null, isLogLevel, [...LOG_LEVELS]),
    theme: params.get('theme') === 'dark' ? 'dark' : params.get('theme') === 'light' ? 'light' : undefined,
  };
}

/** `#L123` → 123; anything else → 0. */
export function lineFromHash(hash: string): number {
  const match = /^#L(\d{1,15})$/.exec(hash);
  return match === null ? 0 : Number(match[1]);
}

/** Where to start for a line link: some lines above it, so that it is not the first line shown. */
export function startForLine(seq: number): StartPoint {
  return { since: Math.max(0, seq - 1 - LINK_CONTEXT) };
}

function startPoint(params: URLSearchParams, lineSeq: number): StartPoint {
  const since = wholeNumber(params.get('since'));
  if (since !== undefined) return { since };
  if (lineSeq > 0) return startForLine(lineSeq);
  const tail = wholeNumber(params.get('tail'));
  return { tail: tail === undefined ? DEFAULT_TAIL : Math.min(tail, MAX_TAIL) };
}

function wholeNumber(text: string | null): number | undefined {
  if (text === null || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

function listParam<T extends string>(text: string | null, accept: (v: unknown) => v is T, all: T[]): T[] {
  if (text === null || text === '') return all;
  const picked = text.split(',').map((s) => s.trim()).filter(accept);
  return picked.length === 0 ? all : picked;
}
