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

/**
 * `payloads` as consecutive unmasked WebSocket text frames (RFC 6455 §5.2), in one buffer: a batch
 * sent one line a frame costs each subscriber one socket write instead of one per line (1,000
 * subscribers of a 1,000-line batch were a million writes).
 */
export function wireFrames(payloads: readonly Buffer[]): Buffer {
  let size = 0;
  for (const payload of payloads) size += headerLength(payload.length) + payload.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const payload of payloads) {
    out[at] = 0x81; // FIN, text
    const length = payload.length;
    if (length < 126) {
      out[at + 1] = length;
      at += 2;
    } else if (length < 65_536) {
      out[at + 1] = 126;
      out.writeUInt16BE(length, at + 2);
      at += 4;
    } else {
      out[at + 1] = 127;
      out.writeBigUInt64BE(BigInt(length), at + 2);
      at += 10;
    }
    payload.copy(out, at);
    at += length;
  }
  return out;
}

function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}
