// How entries and tasks look in the terminal: `TIMESTAMP SOURCE LEVEL [cut: N chars] message`,
// coloured by level with --color (on a terminal by default), escape sequences removed; one JSON
// object per line with -o json; the message as stored with -o raw. Also the gap marker and the
// line being written.
import { cutMarker, overwriteCarriageReturns, type LogEntry, type LogLevel, type PartialMessage, type TaskStatus, type TaskSummary } from '@keruta/protocol';
import { safeText } from './safe-text.js';

const LEVEL_COLORS: Record<LogLevel, string> = { DEBUG: '34', INFO: '32', WARN: '33', ERROR: '31' };
const STATUS_COLORS: Record<TaskStatus, string> = { running: '36', succeeded: '32', failed: '31', unknown: '2' };

function paint(code: string, text: string): string {
  return `\u001b[${code}m${text}\u001b[0m`;
}

export const OUTPUT_FORMATS = ['text', 'json', 'raw'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface EntryFormat {
  /** `text`: `[TIMESTAMP] SOURCE LEVEL message`, made safe; `json`: the LogEntry; `raw`: `[TIMESTAMP] message` as stored. */
  output: OutputFormat;
  /** Colours by level, and the script's own colours (SGR) kept; without, they are removed (text only). */
  color: boolean;
  /** Output goes to a terminal: control characters are shown (`cat -v`), not acted on. */
  terminal: boolean;
  /** Starts a text or raw line with the entry's timestamp. */
  timestamps: boolean;
}

/** The marker of a cut line stands out on a terminal: it says the line is not all there. */
const CUT_COLOR = '7';

export function formatEntry(entry: LogEntry, format: EntryFormat): string {
  if (format.output === 'json') return JSON.stringify(entry);
  const timestamp = format.timestamps ? `${entry.timestamp} ` : '';
  if (format.output === 'raw') return `${timestamp}${entry.message}`;
  const { color, terminal } = format;
  const source = entry.source.padEnd(6);
  const level = entry.level.padEnd(5);
  const safe = safeText(entry.message, { colors: color, showControls: terminal });
  // A colour the line left on would otherwise spill into every line printed after it.
  const text = safe.keptColor ? `${safe.text}\u001b[0m` : safe.text;
  const marker = cutMarker(entry);
  if (!color) return `${timestamp}${source} ${level} ${marker}${text}`;
  const levelColor = LEVEL_COLORS[entry.level];
  // WARN and ERROR lines stand out whole; the others keep the script's own colours.
  const message = entry.level === 'WARN' || entry.level === 'ERROR' ? paint(levelColor, text) : text;
  const cut = marker === '' ? '' : `${paint(CUT_COLOR, marker.trimEnd())} `;
  return `${format.timestamps ? `${paint('2', entry.timestamp)} ` : ''}${paint('1', source)} ${paint(levelColor, level)} ${cut}${message}`;
}

/** The line printed where stored lines are missing: seq `first` to `last` were deleted before they could be read. */
export function formatGap(first: number, last: number, color: boolean): string {
  const span = first === last ? `seq ${first}` : `seq ${first}-${last}`;
  const text = `[gap: ${span} not stored: deleted (e.g. by retention) before keruta could read ${first === last ? 'it' : 'them'}]`;
  return color ? paint(CUT_COLOR, text) : text;
}

/**
 * The line a script is still writing, as one terminal row: `TIMESTAMP SOURCE …     text`, "\r"
 * applied, every escape sequence removed, cut to `columns - 1` characters (a row that wraps could
 * not be rewritten in place), dimmed with colours.
 */
export function formatPartial(partial: PartialMessage, options: { color: boolean; timestamps: boolean; columns: number }): string {
  const text = safeText(overwriteCarriageReturns(partial.text), { colors: false, showControls: true }).text;
  const line = `${options.timestamps ? `${partial.timestamp} ` : ''}${partial.source.padEnd(6)} …     ${text}`;
  const cut = fitColumns(line, Math.max(1, options.columns - 1));
  return options.color ? paint('2;3', cut) : cut;
}

/** East Asian wide and fullwidth characters, and emoji: two terminal columns each. */
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}\u{20000}-\u{3fffd}]/u;

/** The longest start of `text` that fits in `columns` terminal columns. */
function fitColumns(text: string, columns: number): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    used += WIDE.test(char) ? 2 : 1;
    if (used > columns) break;
    end += char.length;
  }
  return text.slice(0, end);
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
