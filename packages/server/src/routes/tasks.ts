// /api/v1/tasks: the tasks the server knows, newest activity first, and one task's summary.
import type { FastifyInstance } from 'fastify';
import { KerutaError, assertTaskId } from '@keruta/protocol';
import type { LogStore } from '@keruta/storage';
import { parsePaging, type RawQuery } from '../query-params.js';

export function registerTaskRoutes(app: FastifyInstance, { store }: { store: LogStore }): void {
  app.get<{ Querystring: RawQuery }>('/api/v1/tasks', { config: { scope: 'logs:read' } }, async (request) => {
    const { page, size } = parsePaging(request.query);
    // A credential limited to some tasks sees only those, and the page counts count only those.
    return store.listTasks(page, size, request.principal?.tasks);
  });

  app.get<{ Params: { taskId: string } }>('/api/v1/tasks/:taskId', { config: { scope: 'logs:read' } }, async (request) => {
    const taskId = assertTaskId(request.params.taskId);
    const task = await store.getTask(taskId);
    if (task === undefined) throw new KerutaError('TASK_NOT_FOUND', `task ${taskId} has no logs`);
    return task;
  });
}
