// Writes a batch of log rows with one COPY … FROM STDIN: one statement for the whole batch.
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PlannedRow } from '../append-plan.js';
import { COPY_LOGS } from './statements.js';

/**
 * Measured on 200,000 lines in batches of 1,000 (2 cores, busy): `INSERT … SELECT FROM unnest($1::…[], …)`
 * 86k-150k lines/s, `json_to_recordset` 58k-150k, COPY 157k-237k. COPY's text format is the
 * cheapest for the server to parse and the cheapest to build here: no array literals to escape.
 */
export interface CopyRows {
  /** One row, as the append plan gives it. */
  add(...row: PlannedRow): void;
  /** Sends the rows; rejects (and the transaction must roll back) when any is refused. */
  write(client: PoolClient): Promise<void>;
}

export function createCopyRows(): CopyRows {
  let text = '';
  let lastTaskId: string | undefined;
  let taskField = '';
  return {
    add(taskId, seq, timeMs, source, level, message, lineNumber, metadata, runId, runSeq) {
      // One task per batch: its id is escaped once.
      if (taskId !== lastTaskId) {
        lastTaskId = taskId;
        taskField = copyText(storableText(taskId));
      }
      text += `${taskField}\t${seq}\t${timeMs}\t${source}\t${level}\t${copyText(message)}\t${lineNumber}\t${
        metadata === null ? NULL : copyText(metadata)
      }\t${runId === null ? NULL : copyText(runId)}\t${runSeq === null ? NULL : runSeq}\n`;
    },
    write(client) {
      return new Promise<void>((resolve, reject) => {
        const stream = client.query(copyFrom(COPY_LOGS));
        stream.on('error', reject);
        stream.on('finish', resolve);
        stream.end(text);
      });
    },
  };
}

const NULL = '\\N';

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped. */
function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] ?? c) : value;
}

/**
 * PostgreSQL's text cannot hold U+0000 (SQLite's can). A message is text a script printed, so the
 * character becomes U+FFFD, as an invalid byte would, rather than failing the agent's whole batch.
 */
export function storableText(value: string): string {
  return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
}
