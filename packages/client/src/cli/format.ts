// How entries and tasks look in the terminal: `TIMESTAMP SOURCE LEVEL message`, coloured by level
// on a terminal; one JSON object per line with --json.
import type { LogEntry, LogLevel, TaskStatus, TaskSummary } from '@keruta/protocol';

const LEVEL_COLORS: Record<LogLevel, string> = { DEBUG: '34', INFO: '32', WARN: '33', ERROR: '31' };
const STATUS_COLORS: Record<TaskStatus, string> = { running: '36', succeeded: '32', failed: '31', unknown: '2' };

function paint(code: string, text: string): string {
  return `\u001b[${code}m${text}\u001b[0m`;
}

/** A colour or style: ESC [ numbers m. Nothing else a terminal would act on is let through. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const SGR = /^\u001b\[[0-9;:]*m/;
// C0 controls but tab, DEL, and the C1 controls (which some terminals take as ESC + a letter).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
const HAS_CONTROL = new RegExp(CONTROL.source);

function caret(char: string): string {
  const code = char.charCodeAt(0);
  if (code === 0x7f) return '^?';
  if (code >= 0x80) return `M-^${String.fromCharCode(code - 0x80 + 0x40)}`;
  return `^${String.fromCharCode(code + 0x40)}`;
}

/**
 * A message as a terminal may show it: a script's colours stay (when `colors`), and every other
 * control character is printed the way `cat -v` prints it (ESC as `^[`, CR as `^M`), so that no
 * line read from a log can move the cursor, clear the screen, retitle the window or answer back.
 */
export function terminalText(message: string, colors: boolean): string {
  if (!HAS_CONTROL.test(message)) return message;
  let out = '';
  let rest = message;
  for (let at = rest.indexOf('\u001b'); colors && at !== -1; at = rest.indexOf('\u001b')) {
    const sgr = SGR.exec(rest.slice(at));
    const end = at + (sgr === null ? 1 : sgr[0].length);
    out += rest.slice(0, at).replace(CONTROL, caret) + (sgr === null ? '^[' : sgr[0]);
    rest = rest.slice(end);
  }
  return out + rest.replace(CONTROL, caret);
}

export interface EntryFormat {
  /** Colours by level, and the script's own colours kept. */
  color: boolean;
  /** Output goes to a terminal: control characters are shown, not acted on. */
  terminal: boolean;
}

export function formatEntry(entry: LogEntry, { color, terminal }: EntryFormat): string {
  const source = entry.source.padEnd(6);
  const level = entry.level.padEnd(5);
  const text = terminal ? terminalText(entry.message, color) : entry.message;
  if (!color) return `${entry.timestamp} ${source} ${level} ${text}`;
  const levelColor = LEVEL_COLORS[entry.level];
  // WARN and ERROR lines stand out whole; the others keep the script's own colours.
  const message = entry.level === 'WARN' || entry.level === 'ERROR' ? paint(levelColor, text) : text;
  return `${paint('2', entry.timestamp)} ${paint('1', source)} ${paint(levelColor, level)} ${message}`;
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
