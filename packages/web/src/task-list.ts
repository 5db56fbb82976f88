// The task list beside the log: GET /api/v1/tasks (newest activity first) with each task's status
// and exit code, refreshed every few seconds while the page is visible, and at once when the
// watched task reports a start or an end.
import type { RestClient } from 'keruta-client';
import type { TaskSummary } from '@keruta/protocol';
import { element, formatCount } from './dom.js';
import { setStatusBadge } from './task-status.js';

export const TASK_LIST_REFRESH_MS = 5000;
const TASK_LIST_SIZE = 100;

export interface TaskListOptions {
  rest: RestClient;
  currentTaskId: string;
  list: HTMLUListElement;
  count: HTMLElement;
  error: HTMLElement;
  /** The current task's summary, whenever the list brings one. */
  onCurrent(summary: TaskSummary): void;
}

export interface TaskList {
  refresh(): Promise<void>;
  stop(): void;
}

export function startTaskList(options: TaskListOptions): TaskList {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const render = (tasks: readonly TaskSummary[]): void => {
    const items = tasks.map((task) => {
      const item = element('li', task.taskId === options.currentTaskId ? 'task-item current' : 'task-item');
      const link = element('a');
      link.href = `?taskId=${encodeURIComponent(task.taskId)}`;
      if (task.taskId === options.currentTaskId) link.setAttribute('aria-current', 'page');
      const badge = element('span');
      setStatusBadge(badge, task);
      const name = element('span', 'task-name', task.taskId);
      name.title = task.taskId;
      const meta = element('span', 'task-meta muted', `${formatCount(task.totalLogs)} lines · ${relativeTime(task.updatedAt)}`);
      meta.title = `last activity ${task.updatedAt}`;
      link.append(name, badge, meta);
      item.append(link);
      return item;
    });
    options.list.replaceChildren(...items);
    options.count.textContent = tasks.length === 0 ? '' : `(${tasks.length})`;
  };

  const refresh = async (): Promise<void> => {
    try {
      const page = await options.rest.listTasks({ size: TASK_LIST_SIZE });
      options.error.hidden = true;
      render(page.content);
      const current = page.content.find((t) => t.taskId === options.currentTaskId);
      if (current !== undefined) options.onCurrent(current);
    } catch (failure) {
      options.error.hidden = false;
      options.error.textContent = `Cannot list tasks: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
  };

  const loop = async (): Promise<void> => {
    if (stopped) return;
    if (document.visibilityState === 'visible') await refresh();
    if (!stopped) timer = setTimeout(() => void loop(), TASK_LIST_REFRESH_MS);
  };
  void loop();

  return {
    refresh,
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

function relativeTime(iso: string): string {
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
