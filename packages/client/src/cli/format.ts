// How entries and tasks look in the terminal: `TIMESTAMP SOURCE LEVEL [cut: N chars] message`,
// coloured by level with --color (on a terminal by default), escape sequences removed unless
// --raw; one JSON object per line with --json.
import { cutMarker, type LogEntry, type LogLevel, type TaskStatus, type TaskSummary } from '@keruta/protocol';
import { safeText } from './safe-text.js';

const LEVEL_COLORS: Record<LogLevel, string> = { DEBUG: '34', INFO: '32', WARN: '33', ERROR: '31' };
const STATUS_COLORS: Record<TaskStatus, string> = { running: '36', succeeded: '32', failed: '31', unknown: '2' };

function paint(code: string, text: string): string {
  return `\u001b[${code}m${text}\u001b[0m`;
}

export interface EntryFormat {
  /** Colours by level, and the script's own colours (SGR) kept; without, they are removed. */
  color: boolean;
  /** Output goes to a terminal: control characters are shown (`cat -v`), not acted on. */
  terminal: boolean;
  /** The message exactly as stored, escape sequences and all (`--raw`). */
  raw: boolean;
}

/** The marker of a cut line stands out on a terminal: it says the line is not all there. */
const CUT_COLOR = '7';

export function formatEntry(entry: LogEntry, { color, terminal, raw }: EntryFormat): string {
  const source = entry.source.padEnd(6);
  const level = entry.level.padEnd(5);
  let text = entry.message;
  if (!raw) {
    const safe = safeText(entry.message, { colors: color, showControls: terminal });
    // A colour the line left on would otherwise spill into every line printed after it.
    text = safe.keptColor ? `${safe.text}\u001b[0m` : safe.text;
  }
  const marker = cutMarker(entry);
  if (!color) return `${entry.timestamp} ${source} ${level} ${marker}${text}`;
  const levelColor = LEVEL_COLORS[entry.level];
  // WARN and ERROR lines stand out whole; the others keep the script's own colours.
  const message = entry.level === 'WARN' || entry.level === 'ERROR' ? paint(levelColor, text) : text;
  const cut = marker === '' ? '' : `${paint(CUT_COLOR, marker.trimEnd())} `;
  return `${paint('2', entry.timestamp)} ${paint('1', source)} ${paint(levelColor, level)} ${cut}${message}`;
}

export function formatEntryJson(entry: LogEntry): string {
  return JSON.stringify(entry);
}

const TASK_COLUMNS = ['TASK ID', 'STATUS', 'EXIT', 'LINES', 'LAST ACTIVITY'] as const;

/** An aligned table, one task per row, newest activity first as the server lists them. */
export function formatTaskTable(tasks: readonly TaskSummary[], color: boolean): string[] {
  const rows = tasks.map((task) => [task.taskId, task.status, task.exitCode === undefined ? '-' : String(task.exitCode), String(task.totalLogs), task.updatedAt]);
  const widths = TASK_COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[], status?: TaskStatus): string =>
    cells
      .map((cell, i) => {
        const padded = i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
        return color && i === 1 && status !== undefined ? paint(STATUS_COLORS[status], padded) : padded;
      })
      .join('  ');
  return [line(TASK_COLUMNS), ...rows.map((row, i) => line(row, tasks[i]?.status))];
}
