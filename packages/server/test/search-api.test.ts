// GET /api/v1/search against a real keruta-api: lines of every task the credential may read,
// newest first, with a cursor; bad parameters answered with the code PROTOCOL.md gives them.
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { readJson, startServer } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';

const SECRET = 'search-api-secret-of-32-chars!!!';
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('searcher').setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));

interface SearchAnswer {
  results: { taskId: string; seq: number; message: string; level: string }[];
  nextCursor?: string;
  pending: number;
}

describe('GET /api/v1/search', () => {
  it('returns the matching lines of the tasks the credential may read, newest first, and pages with a cursor', async () => {
    await using server = await startServer({ config: { auth: { mode: 'jwt', jwtSecret: SECRET } } });
    const writer = `Bearer ${await token({ scope: 'logs:write' })}`;
    const post = (taskId: string, entries: unknown[]) =>
      fetch(`${server.apiUrl}/tasks/${taskId}/logs`, { method: 'POST', headers: { authorization: writer, 'content-type': 'application/json' }, body: JSON.stringify(entries) });
    for (const [taskId, n] of [['build-1', 3], ['build-2', 3], ['secret-1', 2]] as const) {
      const entries = Array.from({ length: n }, (_, i) => ({ source: 'stderr', level: 'ERROR', message: `npm ERR! code E404 in ${taskId} #${i}` }));
      expect((await post(taskId, [...entries, { source: 'stdout', level: 'INFO', message: 'nothing to see' }])).status).toBe(201);
    }
    const reader = `Bearer ${await token({ scope: 'logs:read', tasks: ['build-*'] })}`;
    const search = async (query: string): Promise<SearchAnswer> => {
      // The index takes lines in shortly after they are stored: a new line may need a moment.
      for (let tries = 0; ; tries++) {
        const response = await fetch(`${server.apiUrl}/search?${query}`, { headers: { authorization: reader } });
        expect(response.status).toBe(200);
        const answer = (await readJson(response)) as SearchAnswer;
        if (answer.pending === 0 || tries > 100) return answer;
        await sleep(50);
      }
    };
    const all = await search('q=npm%20err!%20code');
    expect(all.results.map((r) => `${r.taskId}#${r.seq}`)).toEqual(['build-2#3', 'build-2#2', 'build-2#1', 'build-1#3', 'build-1#2', 'build-1#1']);
    expect(all.nextCursor).toBeUndefined();

    const first = await search('q=E404&limit=4');
    expect(first.results).toHaveLength(4);
    expect(first.nextCursor).toMatch(/^\d+$/);
    const second = await search(`q=E404&limit=4&cursor=${first.nextCursor}`);
    expect([...first.results, ...second.results].map((r) => `${r.taskId}#${r.seq}`)).toEqual(all.results.map((r) => `${r.taskId}#${r.seq}`));

    expect((await search('q=E404&tasks=build-1')).results.map((r) => r.taskId)).toEqual(['build-1', 'build-1', 'build-1']);
    expect((await search('q=secret-1')).results).toEqual([]);
    expect((await search('q=%23%5B02%5D%24&regex=true')).results.map((r) => r.message)).toEqual(['npm ERR! code E404 in build-2 #2', 'npm ERR! code E404 in build-2 #0', 'npm ERR! code E404 in build-1 #2', 'npm ERR! code E404 in build-1 #0']);
    expect((await search('q=nothing&level=ERROR')).results).toEqual([]);
  });

  it('answers bad parameters with INVALID_LOG_FORMAT naming the parameter', async () => {
    await using server = await startServer();
    const cases: [string, RegExp][] = [
      ['', /^q:/],
      ['q=', /^q:/],
      [`q=${'x'.repeat(257)}`, /^q:/],
      ['q=a&regex=maybe', /^regex:/],
      ['q=(a%2B)%2B&regex=true', /^q:/],
      ['q=(&regex=true', /^q:/],
      ['q=a&limit=0', /^limit:/],
      ['q=a&limit=1001', /^limit:/],
      ['q=a&cursor=abc', /^cursor:/],
      ['q=a&tasks=bad%20name', /^tasks:/],
      ['q=a&level=LOUD', /^level:/],
      ['q=a&from=yesterday', /^from:/],
    ];
    for (const [query, message] of cases) {
      const response = await fetch(`${server.apiUrl}/search?${query}`);
      const body = (await readJson(response)) as { code: string; message: string };
      expect([query, response.status, body.code]).toEqual([query, 400, 'INVALID_LOG_FORMAT']);
      expect(body.message, query).toMatch(message);
    }
  });
});
