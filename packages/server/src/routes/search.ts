// GET /api/v1/search: matching lines of every task the credential may read, newest first, a page
// at a time with a cursor. The store's search index narrows the lines down; each page has a time
// budget, after which it answers with what it found and the cursor to go on from.
import type { FastifyInstance } from 'fastify';
import type { SearchIndex } from '@keruta/storage';
import { parseSearch, type RawQuery } from '../query-params.js';

/** Longest one page of a search may look before it answers with what it has. */
export const SEARCH_BUDGET_MS = 1000;

export function registerSearchRoutes(app: FastifyInstance, { search }: { search: SearchIndex }): void {
  app.get<{ Querystring: RawQuery }>('/api/v1/search', { config: { scope: 'logs:read' } }, async (request) => {
    const params = parseSearch(request.query);
    const allowed = request.principal?.tasks;
    return search.search({ ...params, ...(allowed === undefined ? {} : { allowedTasks: allowed }), budgetMs: SEARCH_BUDGET_MS });
  });
}
