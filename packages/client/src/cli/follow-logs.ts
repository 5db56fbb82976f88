// `keruta logs -f`: history, then live lines, through one LogStreamingClient subscription (the
// server sends what is stored after `since`/`tail`, then live entries, with no gap or duplicate).
// It reconnects forever and resumes after the last printed seq, so a server restart loses and
// repeats nothing; seqs deleted on the server meanwhile (retention) get a gap marker. It ends on
// Ctrl-C (exit 130; 143 on SIGTERM), like `kubectl logs -f`, or once the task has finished and
// every line up to its last one is printed: exit 0 when it succeeded, EXIT_TASK_FAILED
// (task-exit.ts) when it failed (like `gh run watch --exit-status`), so a script can wait on it.
// On a terminal the line the script is still writing is shown in place on the last row.
import type { PartialMessage, TaskSummary } from '@keruta/protocol';
import { isKerutaClientError } from '../client-error.js';
import type { RestClient } from '../rest-client.js';
import type { ConnectionSettings } from './config.js';
import type { EntryPrinter } from './entry-printer.js';
import { createFinishWatch } from './finish-watch.js';
import { createFollowClient } from './follow-client.js';
import { createGapCheck } from './gap-check.js';
import type { HistoryScope } from './print-history.js';
import { printRemaining } from './print-remaining.js';
import { createStreamPrinter } from './stream-printer.js';
import { abortExitCode, finishedExitCode, finishedText, isFinished } from './task-exit.js';

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

/**
 * The seq a followed `--since TIME` starts after: the one before the first entry at or after
 * that time (with the filter), or the last stored one when none is; 0 for a task not started.
 */
async function seqBeforeTime(rest: RestClient, scope: HistoryScope, known: TaskSummary | undefined): Promise<number> {
  if (known === undefined) return 0;
  const first = (await rest.getLogs(scope.taskId, { ...scope.filter, size: 1 })).content[0];
  return first === undefined ? known.lastSeq : first.seq - 1;
}

export async function followLogs(options: FollowLogsOptions): Promise<number> {
  const { rest, printer, signal, sinceMs } = options;
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
  const printUpTo = (upToSeq: number): Promise<void> => printRemaining({ rest, printer, scope, upToSeq, signal });

  if (known !== undefined && isFinished(known.status)) {
    await printUpTo(known.lastSeq);
    notice(finishedText(known));
    return finishedExitCode(known, signal, options.exitStatus);
  }
  return streamUntilEnd({ ...options, scope, notice, printUpTo });
}

/**
 * The live part: one subscription, reconnecting forever, until the task has finished and every
 * line up to its last is printed, or until Ctrl-C, or until the server refuses the subscription (1).
 */
function streamUntilEnd(options: FollowLogsOptions & { printUpTo(upToSeq: number): Promise<void> }): Promise<number> {
  const { rest, printer, signal, scope, notice } = options;
  return new Promise<number>((resolve, reject) => {
    const client = createFollowClient(options.settings, scope);
    let ended = false;
    let lost = false;
    const stream = createStreamPrinter(options);
    const gaps = createGapCheck({ rest, taskId: scope.taskId, printer, print: stream.print });

    const end = (result: number | Error): void => {
      if (ended) return;
      ended = true;
      printer.showPartial(undefined);
      signal.removeEventListener('abort', onAbort);
      if (typeof result === 'number') resolve(result);
      else reject(result);
    };

    const finish = createFinishWatch({
      rest,
      taskId: scope.taskId,
      async finish(task) {
        await client.disconnect();
        await gaps.done;
        printer.showPartial(undefined);
        // The socket may not have delivered every line up to the task's last one yet (in flight,
        // or a catch-up still reading): read the rest over REST, right after the last one printed.
        await options.printUpTo(task.lastSeq);
        notice(finishedText(task));
        end(finishedExitCode(task, signal, options.exitStatus));
      },
      fail: end,
    });

    client.on('logs', (message) => gaps.deliver(message.entries));
    if (options.partialRow !== undefined) {
      // Listening before connect() is what makes the client subscribe with `partial: true`.
      client.on('partial', (partial) => {
        if (!finish.finishing) stream.showPartial(partial);
      });
    }
    client.on('subscribed', (message) => {
      if (lost) {
        notice(`reconnected; resuming after seq ${client.lastSeq}`);
        if (!options.checkGaps && !gaps.checking) gaps.start(client.lastSeq, message.lastSeq);
      }
      lost = false;
      // The task may have finished before this subscription (or while the connection was down).
      finish.check();
    });
    client.on('task', (message) => {
      if (isFinished(message.status)) finish.check();
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
      if (change.state === 'closed' && !finish.finishing) end(1);
    });

    const onAbort = (): void => {
      finish.stop();
      void client.disconnect().then(() => end(abortExitCode(signal)));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    // The stream starts right after `since` (every seq from there is expected) or, with `tail`, anywhere.
    printer.expectAfter(scope.tail === undefined ? (scope.since ?? 0) : undefined);
    client.connect();
  });
}
