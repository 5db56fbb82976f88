// `keruta tasks`: every task the server knows, newest activity first, as a table or JSON lines.
import { MAX_PAGE_SIZE, type TaskSummary } from '@keruta/protocol';
import type { Writable } from 'node:stream';
import type { RestClient } from '../rest-client.js';
import { formatTaskTable } from './format.js';

export async function listAllTasks(rest: RestClient): Promise<TaskSummary[]> {
  const tasks: TaskSummary[] = [];
  for (let page = 0; ; page += 1) {
    const answer = await rest.listTasks({ page, size: MAX_PAGE_SIZE });
    tasks.push(...answer.content);
    if (page + 1 >= answer.totalPages || answer.content.length === 0) return tasks;
  }
}

export async function printTasks(
  rest: RestClient,
  out: Writable,
  options: { json: boolean; color: boolean; notice(text: string): void },
): Promise<void> {
  const tasks = await listAllTasks(rest);
  if (options.json) {
    out.write(tasks.map((task) => `${JSON.stringify(task)}\n`).join(''));
    return;
  }
  if (tasks.length === 0) {
    options.notice('no tasks yet');
    return;
  }
  out.write(`${formatTaskTable(tasks, options.color).join('\n')}\n`);
}
