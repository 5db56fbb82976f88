// Server-to-client frames, serialised once and shared by every subscriber that wants the same bytes.
import type { ErrorCode, LogEntry, ServerMessage, TaskSummary } from '@keruta/protocol';

// eslint-disable-next-line no-control-regex -- every character outside ASCII
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * A frame's UTF-8 bytes. Log text is mostly ASCII, whose UTF-8 is its Latin-1: checking for that
 * and copying is ~3x faster than encoding (a 200,000-line burst spent ~10% of keruta-api's CPU
 * in `Buffer.from(frame)`).
 */
export function textBytes(text: string): Buffer {
  return Buffer.from(text, NON_ASCII.test(text) ? 'utf8' : 'latin1');
}

export function frame(message: ServerMessage): string {
  return JSON.stringify(message);
}

/** `{"type":"log", …entry}` without copying the entry into a new object. */
export function logFrame(entry: LogEntry): string {
  return `{"type":"log",${JSON.stringify(entry).slice(1)}`;
}

/** The same bytes as stringifying each entry and joining them, in one call: 2-4x faster on a batch. */
export function logsFrame(taskId: string, entries: readonly LogEntry[]): string {
  return `{"type":"logs","taskId":${JSON.stringify(taskId)},"entries":${JSON.stringify(entries)}}`;
}

export function errorFrame(code: ErrorCode, message: string, batchId?: string): string {
  return frame({
    type: 'error',
    code,
    message,
    timestamp: new Date().toISOString(),
    ...(batchId === undefined ? {} : { batchId }),
  });
}

export function taskFrame(task: TaskSummary): string {
  return frame({
    type: 'task',
    taskId: task.taskId,
    status: task.status,
    ...(task.exitCode === undefined ? {} : { exitCode: task.exitCode }),
    lastSeq: task.lastSeq,
  });
}
