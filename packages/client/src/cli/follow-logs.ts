// `keruta logs -f`: history, then live lines, through one LogStreamingClient subscription (the
// server sends what is stored after `since`/`tail`, then live entries, with no gap or duplicate).
// It reconnects forever and resumes after the last printed seq, so a server restart loses and
// repeats nothing; seqs deleted on the server meanwhile (retention) get a gap marker. It ends on
// Ctrl-C (exit 130; 143 on SIGTERM), like `kubectl logs -f`, or once the task has finished and
// every line up to its last one is printed: exit 0 when it succeeded, EXIT_TASK_FAILED when it
// failed (like `gh run watch --exit-status`), so a script can wait on it. On a terminal the line
// the script is still writing is shown in place on the last row.
import WebSocket from 'ws';
import type { LogEntry, PartialMessage, TaskStatus, TaskSummary } from '@keruta/protocol';
import { isKerutaClientError, isRetryableClientError } from '../client-error.js';
import { LogStreamingClient } from '../log-streaming-client.js';
import type { RestClient } from '../rest-client.js';
import type { WebSocketConstructor } from '../websocket-like.js';
import type { ConnectionSettings } from './config.js';
import type { EntryPrinter } from './entry-printer.js';
import { createPartialLines } from './partial-lines.js';
import { historyStart, printRange, type HistoryScope } from './print-history.js';

export interface FollowLogsOptions {
  rest: RestClient;
  settings: ConnectionSettings;
  scope: HistoryScope;
  printer: EntryPrinter;
  /** Writes a one-line notice to stderr. */
  notice(text: string): void;
  signal: AbortSignal;
  /** --since: entries before this time (epoch ms) are not printed, as REST's `from` does for history. */
  sinceMs: number | undefined;
  /** Every stored seq is printed (no filter): the printer finds gaps itself; else the server is asked after each reconnect. */
  checkGaps: boolean;
  /** false (--no-exit-status): exit 0 however the task ended. */
  exitStatus: boolean;
  /** Shows the line being written (`partial` messages), formatted as one terminal row; undefined: not asked for. */
  partialRow: ((partial: PartialMessage) => string) | undefined;
}

/** Reconnect quickly after a restart, and keep trying: a follower waits for its server. */
const RECONNECT = { reconnectInterval: 250, maxReconnectInterval: 5000, maxReconnectAttempts: Infinity } as const;
const RETRY_READ_MS = 500;

function isFinished(status: TaskStatus): boolean {
  return status === 'succeeded' || status === 'failed';
}

function finishedText(task: TaskSummary): string {
  return `task ${task.taskId} ${task.status}${task.exitCode === undefined ? '' : ` with exit code ${task.exitCode}`}`;
}

export function abortExitCode(signal: AbortSignal): number {
  return signal.reason === 'SIGTERM' ? 143 : 130;
}

/**
 * The followed task failed. Not 1 (the server refused or could not be reached) nor 2 (usage), so
 * that a script tells "the task failed" from "could not watch it"; the task's own exit code is in
 * the last notice, as it can be 1, 2, or absent (an agent that died).
 */
export const EXIT_TASK_FAILED = 3;

/** With --exit-status, without -f: the task had not finished (running, or `unknown`: lines posted without an agent). */
export const EXIT_TASK_UNFINISHED = 4;

/** The exit status for how the task stands (--exit-status): 0 succeeded, 3 failed, 4 not finished. */
export function taskExitCode(task: TaskSummary): number {
  if (task.status === 'failed') return EXIT_TASK_FAILED;
  return task.status === 'succeeded' ? 0 : EXIT_TASK_UNFINISHED;
}

function finishedExitCode(task: TaskSummary, signal: AbortSignal, exitStatus: boolean): number {
  if (signal.aborted) return abortExitCode(signal);
  return exitStatus ? taskExitCode(task) : 0;
}

/**
 * The seq a followed `--since TIME` starts after: the one before the first entry at or after
 * that time (with the filter), or the last stored one when none is; 0 for a task not started.
 */
async function seqBeforeTime(rest: RestClient, scope: HistoryScope, known: TaskSummary | undefined): Promise<number> {
  if (known === undefined) return 0;
  const first = (await rest.getLogs(scope.taskId, { ...scope.filter, size: 1 })).content[0];
  return first === undefined ? known.lastSeq : first.seq - 1;
}

/** A failure a moment later may not repeat (a restart, a store briefly down, a rate limit): how long to wait, or undefined if final. */
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

/**
 * `ws` with the credentials as headers, as on REST: in Node nothing forces the browser's
 * `?token=` (which would put the secret in the URL, and in access logs).
 */
function webSocketWithHeaders(settings: ConnectionSettings): WebSocketConstructor {
  const headers: Record<string, string> = {};
  if (settings.token !== undefined) headers['Authorization'] = `Bearer ${settings.token}`;
  if (settings.apiKey !== undefined) headers['X-API-Key'] = settings.apiKey;
  class AuthenticatedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { headers });
    }
  }
  return AuthenticatedWebSocket as unknown as WebSocketConstructor;
}

export async function followLogs(options: FollowLogsOptions): Promise<number> {
  const { rest, settings, printer, signal, sinceMs, checkGaps, exitStatus } = options;
  // A notice goes on a row of its own, not after the line being written.
  const notice = (text: string): void => {
    printer.clearRow();
    options.notice(text);
    void printer.flush();
  };
  let known: TaskSummary | undefined;
  try {
    known = await rest.getTask(options.scope.taskId);
  } catch (error) {
    if (!isKerutaClientError(error) || error.code !== 'TASK_NOT_FOUND') throw error;
    notice(`task ${options.scope.taskId} has no logs yet; waiting for it to start (Ctrl-C to stop)`);
  }
  // With `tail` the stream starts with the last lines anyway, and those before --since are dropped.
  const scope: HistoryScope =
    sinceMs === undefined || options.scope.tail !== undefined
      ? options.scope
      : { ...options.scope, since: Math.max(options.scope.since ?? 0, await seqBeforeTime(rest, options.scope, known)) };

  /** Prints what is stored after the last printed line (or from the window's start) up to `upToSeq`, retrying through restarts. */
  const printRemaining = async (upToSeq: number): Promise<void> => {
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
  };

  if (known !== undefined && isFinished(known.status)) {
    await printRemaining(known.lastSeq);
    notice(finishedText(known));
    return finishedExitCode(known, signal, exitStatus);
  }

  return new Promise<number>((resolve, reject) => {
    const { sources, levels } = scope.filter;
    const client = new LogStreamingClient(scope.taskId, {
      url: settings.webSocketUrl,
      ...RECONNECT,
      autoConnect: false,
      WebSocket: webSocketWithHeaders(settings),
      ...(sources === undefined ? {} : { sources }),
      ...(levels === undefined ? {} : { levels }),
      // The whole log unless a window is asked for: `since: 0`, not the client's live-only default.
      ...(scope.since === undefined && scope.tail === undefined ? { since: 0 } : {}),
      ...(scope.since === undefined ? {} : { since: scope.since }),
      ...(scope.tail === undefined ? {} : { tail: scope.tail }),
    });
    let ended = false;
    let finishing = false;
    let lost = false;
    const partials = createPartialLines();
    /** Entries that came while the server is asked whether seqs were deleted during a reconnect. */
    let held: LogEntry[] | undefined;
    let gapCheck = Promise.resolve();

    const end = (result: number | Error): void => {
      if (ended) return;
      ended = true;
      printer.showPartial(undefined);
      signal.removeEventListener('abort', onAbort);
      if (typeof result === 'number') resolve(result);
      else reject(result);
    };

    const checkFinished = async (): Promise<void> => {
      if (finishing) return;
      let task: TaskSummary;
      try {
        task = await rest.getTask(scope.taskId);
      } catch {
        // Not started yet (TASK_NOT_FOUND) or the server went away again: the next `subscribed`
        // or `task` event asks again.
        return;
      }
      if (!isFinished(task.status) || finishing) return;
      finishing = true;
      await client.disconnect();
      await gapCheck;
      printer.showPartial(undefined);
      // The socket may not have delivered every line up to the task's last one yet (in flight,
      // or a catch-up still reading): read the rest over REST, right after the last one printed.
      await printRemaining(task.lastSeq);
      notice(finishedText(task));
      end(finishedExitCode(task, signal, exitStatus));
    };
    let checks = Promise.resolve();
    const queueCheck = (): void => {
      checks = checks.then(checkFinished).catch((error: unknown) => end(error instanceof Error ? error : new Error(String(error))));
    };

    const printEntries = (entries: readonly LogEntry[]): void => {
      for (const entry of entries) {
        if (sinceMs === undefined || Date.parse(entry.timestamp) >= sinceMs) printer.print(entry);
      }
      if (partials.settle(entries)) printer.showPartial(rowOf(partials.current));
      void printer.flush();
    };
    const rowOf = (partial: PartialMessage | undefined): string | undefined =>
      partial === undefined || options.partialRow === undefined ? undefined : options.partialRow(partial);

    /**
     * After a reconnect of a filtered follow, whose seqs do not tell a gap: the first seq stored
     * after the last one delivered says whether seqs were deleted meanwhile. Entries that come
     * in the meantime wait, so that the marker is printed where the gap is.
     */
    const checkGapAfter = (resumedAfter: number, serverLastSeq: number): void => {
      held = [];
      gapCheck = (async () => {
        try {
          const first = (await rest.getLogs(scope.taskId, { afterSeq: resumedAfter, size: 1 })).content[0]?.seq ?? serverLastSeq + 1;
          if (first > resumedAfter + 1) printer.markGap(resumedAfter + 1, first - 1);
        } catch {
          // The server went away again between the subscription and this read: the held lines
          // are printed without a marker rather than held back; a gap is then not said.
        }
        const waiting = held ?? [];
        held = undefined;
        printEntries(waiting);
      })();
    };

    client.on('logs', (message) => {
      if (held !== undefined) held.push(...message.entries);
      else printEntries(message.entries);
    });
    if (options.partialRow !== undefined) {
      // Listening before connect() is what makes the client subscribe with `partial: true`.
      client.on('partial', (partial) => {
        if (!finishing && partials.show(partial)) printer.showPartial(rowOf(partials.current));
      });
    }
    client.on('subscribed', (message) => {
      if (lost) {
        notice(`reconnected; resuming after seq ${client.lastSeq}`);
        if (!checkGaps && held === undefined) checkGapAfter(client.lastSeq, message.lastSeq);
      }
      lost = false;
      // The task may have finished before this subscription (or while the connection was down).
      queueCheck();
    });
    client.on('task', (message) => {
      if (isFinished(message.status)) queueCheck();
    });
    client.on('error', (message) => {
      if (message.code === 'SLOW_CONSUMER') notice(`fell behind the server; resuming after seq ${client.lastSeq}`);
      else notice(`${message.code}: ${message.message}`);
    });
    client.on('state', (change) => {
      if (change.state === 'reconnecting' && !lost && change.code !== undefined) {
        lost = true;
        if (change.code !== 4008) notice(`connection lost (close code ${change.code}); reconnecting`);
      }
      // Closed without our asking: the server refused the subscription for good (the error said why).
      if (change.state === 'closed' && !finishing) end(1);
    });

    const onAbort = (): void => {
      finishing = true;
      void client.disconnect().then(() => end(abortExitCode(signal)));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // The stream starts right after `since` (every seq from there is expected) or, with `tail`, anywhere.
    printer.expectAfter(scope.tail === undefined ? (scope.since ?? 0) : undefined);
    client.connect();
  });
}
