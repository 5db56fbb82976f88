// GET /api/v1/tasks/{taskId}/compare?with={otherTaskId}: how a run's log differs from another's
// (by default the last succeeded run of the same job: the task ids sharing the part before the
// last `-`), section by section, on lines with timestamps, ids, numbers and durations normalised.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { KerutaError, TASK_ID_PATTERN, assertTaskId, type TaskSummary } from '@keruta/protocol';
import type { LogStore } from '@keruta/storage';
import { authorize, mayAccessTask, type Principal } from '../auth/principal.js';
import { compareSection, pairSegments, readSegments, MAX_COMPARE_LINES } from '../compare/compare-logs.js';
import { NORMALISED } from '../compare/normalize-line.js';
import { createTurnTaker } from '../event-loop.js';
import type { RawQuery } from '../query-params.js';

/** Tasks looked at when searching for the last succeeded run: 10 pages of 100, newest first. */
const BASELINE_PAGES = 10;
const BASELINE_PAGE_SIZE = 100;

function single(query: RawQuery, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    if (value.length > 1) throw new KerutaError('INVALID_LOG_FORMAT', `${name}: give it once`);
    return value[0];
  }
  return value === '' ? undefined : value;
}

/** `build-1842` → `build-`: the part of the id a job's runs share. */
export function jobPrefix(taskId: string): string | undefined {
  const dash = taskId.lastIndexOf('-');
  return dash <= 0 ? undefined : taskId.slice(0, dash + 1);
}

/**
 * The last succeeded task whose id starts with `prefix`, other than `task`, that the credential
 * may read: the newest that had finished by the time `task` last changed, else the newest.
 */
async function lastSucceeded(store: LogStore, task: TaskSummary, prefix: string, principal: Principal | undefined): Promise<TaskSummary | undefined> {
  let later: TaskSummary | undefined;
  for (let page = 0; page < BASELINE_PAGES; page += 1) {
    const { content, totalPages } = await store.listTasks(page, BASELINE_PAGE_SIZE, [`${prefix}*`]);
    for (const candidate of content) {
      if (candidate.taskId === task.taskId || candidate.status !== 'succeeded') continue;
      if (principal !== undefined && !mayAccessTask(principal, candidate.taskId)) continue;
      if (candidate.updatedAt <= task.updatedAt) return candidate;
      later ??= candidate;
    }
    if (page + 1 >= totalPages) break;
  }
  return later;
}

export function registerCompareRoutes(app: FastifyInstance, { store }: { store: LogStore }): void {
  app.get<{ Params: { taskId: string }; Querystring: RawQuery }>(
    '/api/v1/tasks/:taskId/compare',
    { config: { scope: 'logs:read' } },
    async (request, reply) => {
      const taskId = assertTaskId(request.params.taskId);
      const withParam = single(request.query, 'with');
      const prefixParam = single(request.query, 'withPrefix');
      if (withParam !== undefined && prefixParam !== undefined) {
        throw new KerutaError('INVALID_LOG_FORMAT', 'with, withPrefix: give one of them, not both');
      }
      if (prefixParam !== undefined && !TASK_ID_PATTERN.test(prefixParam)) {
        throw new KerutaError('INVALID_LOG_FORMAT', `withPrefix: must be the start of a task id ([A-Za-z0-9._-]), got ${JSON.stringify(prefixParam)}`);
      }
      const task = await store.getTask(taskId);
      if (task === undefined) throw new KerutaError('TASK_NOT_FOUND', `task ${taskId} has no logs`);
      let other: TaskSummary | undefined;
      if (withParam !== undefined) {
        const otherId = assertTaskId(withParam);
        // The other task is read too: the credential must cover it as well.
        if (request.principal !== undefined) authorize(request.principal, 'logs:read', otherId);
        other = await store.getTask(otherId);
        if (other === undefined) throw new KerutaError('TASK_NOT_FOUND', `task ${otherId} has no logs`);
      } else {
        const prefix = prefixParam ?? jobPrefix(taskId);
        if (prefix === undefined) {
          throw new KerutaError('INVALID_LOG_FORMAT', `with: ${taskId} has no "-" to find its job's runs by; give with= or withPrefix=`);
        }
        other = await lastSucceeded(store, task, prefix, request.principal);
        if (other === undefined) {
          throw new KerutaError('TASK_NOT_FOUND', `no succeeded task whose id starts with ${prefix} to compare ${taskId} with; give with=`);
        }
      }
      // Both logs are read before the answer starts, so that a store failure is still an error answer.
      const [taskSegments, otherSegments] = await Promise.all([readSegments(store, taskId), readSegments(store, other.taskId)]);
      const pairs = pairSegments(taskSegments, otherSegments);
      const withTaskId = other.taskId;
      async function* chunks(): AsyncGenerator<string> {
        yield `{"taskId":${JSON.stringify(taskId)},"withTaskId":${JSON.stringify(withTaskId)},"normalised":${JSON.stringify(NORMALISED)},"sections":[`;
        const takeTurn = createTurnTaker();
        const totals = { added: 0, removed: 0, taskLines: 0, withLines: 0 };
        let budget = MAX_COMPARE_LINES;
        let truncated = false;
        let first = true;
        for (const pair of pairs) {
          await takeTurn();
          const { section, used } = compareSection(pair, budget);
          budget -= used;
          truncated ||= section.truncated === true;
          totals.added += section.added;
          totals.removed += section.removed;
          totals.taskLines += section.taskLines;
          totals.withLines += section.withLines;
          yield `${first ? '' : ','}${JSON.stringify(section)}`;
          first = false;
        }
        yield `],"totals":${JSON.stringify(totals)},"truncated":${truncated}}`;
      }
      return reply.type('application/json; charset=utf-8').header('Cache-Control', 'no-store').send(Readable.from(chunks(), { objectMode: false }));
    },
  );
}
