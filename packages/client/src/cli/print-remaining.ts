// The REST catch-up of `keruta logs -f`: what is stored after the last printed line (or from the
// window's start) up to a seq, read again after a failure that may not repeat (a restart, a store
// briefly down, a rate limit), so that a follow waits for its server rather than ending.
import { isKerutaClientError, isRetryableClientError } from '../client-error.js';
import type { RestClient } from '../rest-client.js';
import type { EntryPrinter } from './entry-printer.js';
import { historyStart, printRange, type HistoryScope } from './print-history.js';

const RETRY_READ_MS = 500;

/** How long to wait before reading again, or undefined if the failure is final. */
function retryWaitMs(error: unknown): number | undefined {
  if (!isKerutaClientError(error) || !isRetryableClientError(error)) return undefined;
  return Math.max(RETRY_READ_MS, (error.retryAfter ?? 0) * 1000);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Prints what is stored after the last printed line (or from the window's start) up to `upToSeq`, retrying through restarts. */
export async function printRemaining(options: { rest: RestClient; printer: EntryPrinter; scope: HistoryScope; upToSeq: number; signal: AbortSignal }): Promise<void> {
  const { rest, printer, scope, upToSeq, signal } = options;
  for (;;) {
    try {
      const afterSeq = printer.lastSeq ?? (await historyStart(rest, scope, upToSeq));
      await printRange(rest, printer, { taskId: scope.taskId, filter: scope.filter, afterSeq, upToSeq }, signal);
      return;
    } catch (error) {
      const wait = retryWaitMs(error);
      if (wait === undefined || signal.aborted) throw error;
      await sleep(wait, signal);
    }
  }
}
