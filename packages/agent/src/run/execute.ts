// `keruta-agent execute`: runs the script in the reading thread (reader-worker.ts), which prints
// its output unchanged and journals it; this thread turns the journal into entries and has them
// delivered (streaming.ts); at exit it waits a bounded time for the server's acknowledgements and
// says how many lines it kept, and where, when some are still undelivered.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { AgentLog } from '../agent-log.js';
import type { AgentConfig } from '../config.js';
import type { EventPayload } from '../read/intake.js';
import type { FromReader, ReaderWorkerData, ToReader } from '../read/stream-messages.js';
import { keepYoungGenerationSmall } from './heap.js';
import { describeExit, type Invocation, type ScriptExit } from './runner.js';
import { forwardSignals, type SignalForwarding } from './script-signals.js';
import { startStreaming, type Streaming } from './streaming.js';

export interface ExecuteOptions {
  readonly config: AgentConfig;
  readonly log: AgentLog;
  readonly taskId: string;
  readonly scriptPath: string;
  readonly args: readonly string[];
}

const VIA: Record<Invocation, string> = { direct: 'by its #! line', shebang: 'by its #! line; it is not executable', sh: 'with sh' };
/** The longest `exited` waits for the server's first answer (the entry keeps the exit's time). */
const FIRST_ANSWER_WAIT_MS = 1000;

/** Returns the exit status the agent ends with: the script's. */
export async function execute(options: ExecuteOptions): Promise<number> {
  const { config, log, taskId } = options;
  const scriptPath = resolve(options.scriptPath);
  /** The reading thread, once started (delivery's events all come later: they follow network I/O). */
  const reading: { thread?: Worker } = {};
  /** Set once the reading thread is asked to seal the intake: later agent events are only printed. */
  let sealed = false;
  const streaming = config.logStreaming.enabled
    ? startStreaming({
        config,
        log,
        taskId,
        recordEvent(payload) {
          if (!sealed) reading.thread?.postMessage({ type: 'event', payload } satisfies ToReader);
        },
      })
    : undefined;
  if (streaming === undefined) log.info('log streaming is disabled: nothing is sent');

  const workerData = readerWorkerData({ ...options, scriptPath }, streaming);
  // The reading thread allocates next to nothing (one reused read buffer): a small young generation.
  const thread = new Worker(new URL('../read/reader-worker.js', import.meta.url), { workerData, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
  reading.thread = thread;
  thread.once('online', keepYoungGenerationSmall);

  // Signals reach the script straight from here: the reading thread may be waiting on a slow terminal.
  const signals = forwardSignals(log);
  const reader = hearReadingThread(thread, { log, scriptPath, streaming, signals });
  const { exit, event, startFailed } = await reader.exited;
  signals.stop();
  if (!startFailed) log.info(describeExit(exit));

  if (streaming !== undefined) await waitForFirstAnswer(streaming, config.logStreaming.exitTimeoutMs);
  sealed = true;
  thread.postMessage({ type: 'seal', ...(event === undefined || streaming === undefined ? {} : { payload: event }) } satisfies ToReader);
  await reader.sealed;
  await streaming?.finish();
  return exit.status;
}

/** What the reading thread is started with: the script, and where to journal its output when it is streamed. */
function readerWorkerData({ config, taskId, scriptPath, args }: ExecuteOptions, streaming: Streaming | undefined): ReaderWorkerData {
  return {
    scriptPath,
    args,
    env: { ...config.environment, KERUTA_TASK_ID: taskId },
    ...(streaming === undefined
      ? {}
      : {
          intake: {
            dir: streaming.dir,
            signal: streaming.signal,
            started: { scriptPath, argsCount: args.length, agentPid: process.pid, hostname: hostname() },
            ...(streaming.mask === undefined ? {} : { mask: streaming.mask }),
          },
        }),
  };
}

interface ReaderExit {
  readonly exit: ScriptExit;
  /** The `exited` entry to seal the intake with (absent when the thread itself failed). */
  readonly event?: EventPayload;
  /** The script could not be started, or the thread failed: the error is printed already. */
  readonly startFailed: boolean;
}

/** Hears the reading thread: `exited` once the script is done, `sealed` once the intake is closed (or the thread ended). */
function hearReadingThread(
  thread: Worker,
  context: { log: AgentLog; scriptPath: string; streaming: Streaming | undefined; signals: SignalForwarding },
): { exited: Promise<ReaderExit>; sealed: Promise<void> } {
  const { log, streaming } = context;
  let sealedByReader: () => void = () => undefined;
  const sealed = new Promise<void>((resolveSealed) => (sealedByReader = resolveSealed));
  const exited = new Promise<ReaderExit>((resolveExit) => {
    thread.on('message', (message: FromReader) => {
      switch (message.type) {
        case 'spawned':
          context.signals.spawned(message.pid, message.group);
          log.info(`started ${context.scriptPath} (pid ${message.pid}, ${VIA[message.via]})`);
          break;
        case 'wake':
          streaming?.wake();
          break;
        case 'intake-error':
          log.warn(`cannot write the spool in ${streaming?.dir ?? '?'} (${message.reason}); output that cannot be kept is not sent to keruta-api`);
          break;
        case 'exited':
          if (message.failure !== undefined) log.error(message.failure.message);
          else if (message.exit.startError !== undefined) log.error(message.exit.startError);
          if (message.exit.cut !== undefined) log.warn(`output after the script ended was cut after ${message.exit.cut.afterMs / 1000} s: a process it left running still holds its stdout or stderr open`);
          resolveExit({ exit: message.exit, event: message.event, startFailed: message.failure !== undefined });
          break;
        case 'sealed':
          sealedByReader();
          break;
      }
    });
    // A thread that ends without sealing (it failed) has nothing more to journal.
    thread.once('exit', () => sealedByReader());
    thread.once('error', (error) => {
      log.error(`the reading thread failed: ${error.message}`);
      sealedByReader();
      resolveExit({ exit: { status: 1, code: 1, signal: null, startError: error.message }, startFailed: true });
    });
  });
  return { exited, sealed };
}

/**
 * `exited` is the run's last entry. A server that has not answered yet gets a moment first, so
 * that an unreachable one is on record (`spooled`) for a script that ended quickly.
 */
async function waitForFirstAnswer(streaming: Streaming, exitTimeoutMs: number): Promise<void> {
  const waited = new AbortController();
  const wait = sleep(Math.min(exitTimeoutMs, FIRST_ANSWER_WAIT_MS), undefined, { signal: waited.signal });
  await Promise.race([streaming.firstAnswer, wait]).catch(() => undefined);
  waited.abort();
  // The wait was cut short on purpose; nothing to report.
  wait.catch(() => undefined);
}
