// Serialises entries for the export download, chunk by chunk, in json, csv or txt. In csv and txt a
// cut line's message starts with protocol's cutMarker (`[cut: 1,048,576 chars] `), where a reader
// sees it without scrolling past the kept 8,192 characters; json has `metadata` for it.
import { cutMarker, type ExportFormat, type LogEntry } from '@keruta/protocol';

export interface ExportWriter {
  contentType: string;
  extension: string;
  head: string;
  /** `first` tells whether any chunk came before this one. */
  chunk(entries: readonly LogEntry[], first: boolean): string;
  tail: string;
}

const CSV_COLUMNS = ['id', 'seq', 'taskId', 'timestamp', 'source', 'level', 'lineNumber', 'message'] as const;

/**
 * One CSV cell. A cell starting with = + - @ tab or CR is prefixed with a quote mark so that a
 * spreadsheet shows it as text instead of running it as a formula.
 */
export function csvCell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One row in CSV_COLUMNS' order. Only the text a writer chose (task id, id, message) can need
 * quotes or the formula guard; numbers, ISO timestamps, sources and levels never do. Written out
 * instead of mapped over the columns: an export makes millions of rows, and the array and eight
 * cells per row were garbage enough to grow keruta-api's heap during a csv download.
 */
function csvRow(entry: LogEntry): string {
  return `${csvCell(entry.id)},${entry.seq},${csvCell(entry.taskId)},${entry.timestamp},${entry.source},${entry.level},${entry.lineNumber},${csvCell(cutMarker(entry) + entry.message)}`;
}

function textLine(entry: LogEntry): string {
  return `[${entry.timestamp}] [${entry.source.toUpperCase()}] [${entry.level}] ${cutMarker(entry)}${entry.message}`;
}

export function exportWriter(format: ExportFormat): ExportWriter {
  switch (format) {
    case 'json':
      return {
        contentType: 'application/json; charset=utf-8',
        extension: 'json',
        head: '[',
        chunk: (entries, first) =>
          (first ? '\n' : ',\n') + entries.map((e) => JSON.stringify(e)).join(',\n'),
        tail: '\n]\n',
      };
    case 'csv':
      return {
        contentType: 'text/csv; charset=utf-8',
        extension: 'csv',
        head: `${CSV_COLUMNS.join(',')}\r\n`,
        chunk: (entries) => entries.map((e) => `${csvRow(e)}\r\n`).join(''),
        tail: '',
      };
    case 'txt':
      return {
        contentType: 'text/plain; charset=utf-8',
        extension: 'txt',
        head: '',
        chunk: (entries) => entries.map((e) => `${textLine(e)}\n`).join(''),
        tail: '',
      };
  }
}

/** A file name made only of the task id's safe characters (task ids are already [A-Za-z0-9._-]). */
export function exportFileName(taskId: string, extension: string): string {
  return `${taskId.replace(/[^A-Za-z0-9._-]/g, '_')}_logs.${extension}`;
}
