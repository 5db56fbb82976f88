// Agent-less writes for the page's tests: lines POSTed to keruta-api's REST API at once, as any
// script or CI system could. (A writer that goes on posting is @keruta/testing/base's startWriter.)
import type { LogRequest } from '@keruta/protocol';

export interface PostResult {
  accepted: number;
  lastSeq: number;
}

export async function postEntries(apiUrl: string, taskId: string, entries: readonly LogRequest[]): Promise<PostResult> {
  const response = await fetch(`${apiUrl}/tasks/${taskId}/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ entries }),
  });
  if (!response.ok) throw new Error(`POST logs of ${taskId}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as PostResult;
}

/** `line 1`, `line 2` … as stdout INFO entries. */
export function numberedLines(from: number, count: number, text = (n: number) => `line ${n}`): LogRequest[] {
  return Array.from({ length: count }, (_, i) => ({ source: 'stdout' as const, level: 'INFO' as const, message: text(from + i) }));
}
