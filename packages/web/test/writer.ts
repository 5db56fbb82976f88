// Agent-less writers for the page's tests: lines POSTed to keruta-api's REST API, at once or
// continuously, as any script or CI system could.
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

export interface ContinuousWriter {
  /** Resolves with the number of lines written once the writer has stopped. */
  readonly done: Promise<number>;
  readonly written: number;
  stop(): void;
}

/** Posts `perPost` numbered lines every `intervalMs` until `total` are written or `stop()`. */
export function startWriter(options: { apiUrl: string; taskId: string; total: number; perPost?: number; intervalMs?: number }): ContinuousWriter {
  const { apiUrl, taskId, total, perPost = 20, intervalMs = 10 } = options;
  let written = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped && written < total) {
      const count = Math.min(perPost, total - written);
      await postEntries(apiUrl, taskId, numberedLines(written + 1, count));
      written += count;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    return written;
  })();
  return {
    done,
    get written() {
      return written;
    },
    stop() {
      stopped = true;
    },
  };
}
