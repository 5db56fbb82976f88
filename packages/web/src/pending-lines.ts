// The lines a task's script is still writing (`partial` messages, docs/live-partial-lines.md),
// shown as muted rows at the end of the live log and rewritten in place as they change, with
// "\r" applied as the agent applies it when it stores the line. A row goes once the line itself
// (same run, source and line number, or a later one) is stored, or when the task ends.
import { overwriteCarriageReturns, type LogEntry, type PartialMessage } from '@keruta/protocol';
import { withoutBidiControls } from './ansi-segments.js';
import { element } from './dom.js';

export interface PendingLines {
  show(partial: PartialMessage): void;
  /** Stored lines arrived: the pending lines they complete go. */
  settle(entries: readonly LogEntry[]): void;
  /** The task ended, or the view starts again elsewhere. */
  clear(): void;
  /** The source filter may have changed: rows of sources it hides are hidden. */
  refresh(): void;
}

type Pipe = PartialMessage['source'];

interface Pending {
  runId: string;
  lineNumber: number;
  text: string;
}

// eslint-disable-next-line no-control-regex -- the escape sequences themselves
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function createPendingLines(container: HTMLElement, shows: (source: Pipe) => boolean): PendingLines {
  const pending = new Map<Pipe, Pending>();
  /** Per run and pipe, the highest line number stored: a partial at or below it is stale. */
  const storedUpTo = new Map<string, number>();
  const rows = new Map<Pipe, { row: HTMLElement; text: HTMLElement }>();
  container.hidden = true;

  const render = (): void => {
    for (const [source, { row }] of rows) {
      if (pending.has(source)) continue;
      row.remove();
      rows.delete(source);
    }
    for (const source of ['stdout', 'stderr'] as const) {
      const line = pending.get(source);
      if (line === undefined) continue;
      let view = rows.get(source);
      if (view === undefined) {
        const row = element('div', `log-entry pending-line source-${source}`);
        row.title = 'Being written: shown as it is now; stored once the line ends';
        const text = element('span', 'msg');
        row.append(element('span', 'ln', '…'), element('span', `src src-${source}`, source.toUpperCase()), text);
        view = { row, text };
        rows.set(source, view);
        container.append(row);
      }
      // Colours are for stored lines; a line being written shows its text only.
      view.text.textContent = withoutBidiControls(overwriteCarriageReturns(line.text).replace(ESCAPES, ''));
    }
    refresh();
  };

  const refresh = (): void => {
    let visible = 0;
    for (const [source, { row }] of rows) {
      row.hidden = !shows(source);
      if (!row.hidden) visible += 1;
    }
    container.hidden = visible === 0;
  };

  return {
    show(partial) {
      if ((storedUpTo.get(`${partial.runId}|${partial.source}`) ?? 0) >= partial.lineNumber) return;
      pending.set(partial.source, { runId: partial.runId, lineNumber: partial.lineNumber, text: partial.text });
      render();
    },
    settle(entries) {
      if (pending.size === 0 && storedUpTo.size === 0 && entries.every((e) => e.runId === undefined)) return;
      let changed = false;
      for (const entry of entries) {
        if (entry.runId === undefined || entry.lineNumber === undefined) continue;
        if (entry.source === 'agent') {
          // The run ended (or was lost): nothing of it is being written any more.
          const event = entry.metadata['event'];
          if (event !== 'exited' && event !== 'lost') continue;
          for (const [source, line] of pending) {
            if (line.runId !== entry.runId) continue;
            pending.delete(source);
            changed = true;
          }
          continue;
        }
        const key = `${entry.runId}|${entry.source}`;
        storedUpTo.set(key, Math.max(storedUpTo.get(key) ?? 0, entry.lineNumber));
        const line = pending.get(entry.source);
        if (line !== undefined && line.runId === entry.runId && line.lineNumber <= entry.lineNumber) {
          pending.delete(entry.source);
          changed = true;
        }
      }
      if (changed) render();
    },
    clear() {
      pending.clear();
      render();
    },
    refresh,
  };
}
