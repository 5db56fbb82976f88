// `keruta-agent execute`: runs the script in the reading thread (reader-worker.ts), which prints
// its output unchanged and journals it; this thread turns the journal into entries and has them
// delivered (streaming.ts); at exit it waits a bounded time for the server's acknowledgements and
// says how many lines it kept, and where, when some are still undelivered.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { AgentLog } from './agent-log.js';
import type { AgentConfig } from './config.js';
import { keepYoungGenerationSmall } from './heap.js';
import type { EventPayload } from './intake-processor.js';
import { describeExit, type Invocation, type ScriptExit } from './runner.js';
import type { FromReader, ReaderWorkerData, ToReader } from './stream-messages.js';
import { startStreaming } from './streaming.js';

export interface ExecuteOptions {
  readonly config: AgentConfig;
  readonly log: AgentLog;
  readonly taskId: string;
  readonly scriptPath: string;
  readonly args: readonly string[];
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const VIA: Record<Invocation, string> = { direct: 'by its #! line', shebang: 'by its #! line; it is not executable', sh: 'with sh' };
/** The longest `exited` waits for the server's first answer (the entry keeps the exit's time). */
const FIRST_ANSWER_WAIT_MS = 1000;

/** Returns the exit status the agent ends with: the script's. */
export async function execute(options: ExecuteOptions): Promise<number> {
  const { config, log, taskId, args } = options;
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

  const workerData: ReaderWorkerData = {
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
  // The reading thread allocates next to nothing (one reused read buffer): a small young generation.
  const thread = new Worker(new URL('./reader-worker.js', import.meta.url), { workerData, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
  reading.thread = thread;
  thread.once('online', keepYoungGenerationSmall);

  // Signals reach the script straight from here: the reading thread may be waiting on a slow terminal.
  let scriptPid: number | undefined;
  /** The script leads a process group of its own: signals go to the whole group, whatever it started included. */
  let scriptGroup = false;
  /** Signals that came before the reading thread said which pid the script has. */
  const early: NodeJS.Signals[] = [];
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (scriptPid !== undefined && scriptPid > 0) process.kill(scriptGroup ? -scriptPid : scriptPid, signal);
    } catch {
      // The script is already gone; its exit is on its way.
    }
  };
  const forward = (signal: NodeJS.Signals): void => {
    log.info(`received ${signal}; passed on to the script${scriptGroup ? ' and all it started' : ''}`);
    if (scriptPid === undefined) early.push(signal);
    else kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

  let startFailed = false;
  let sealedByReader: () => void = () => undefined;
  const intakeSealed = new Promise<void>((resolveSealed) => (sealedByReader = resolveSealed));
  const { exit, event } = await new Promise<{ exit: ScriptExit; event?: EventPayload }>((resolveExit) => {
    thread.on('message', (message: FromReader) => {
      switch (message.type) {
        case 'spawned':
          scriptPid = message.pid;
          scriptGroup = message.group;
          for (const signal of early.splice(0)) kill(signal);
          log.info(`started ${scriptPath} (pid ${message.pid}, ${VIA[message.via]})`);
          break;
        case 'wake':
          streaming?.wake();
          break;
        case 'intake-error':
          log.warn(`cannot write the spool in ${streaming?.dir ?? '?'} (${message.reason}); output that cannot be kept is not sent to keruta-api`);
          break;
        case 'exited':
          startFailed = message.failure !== undefined;
          if (message.failure !== undefined) log.error(message.failure.message);
          else if (message.exit.startError !== undefined) log.error(message.exit.startError);
          if (message.exit.cut !== undefined) log.warn(`output after the script ended was cut after ${message.exit.cut.afterMs / 1000} s: a process it left running still holds its stdout or stderr open`);
          resolveExit({ exit: message.exit, event: message.event });
          break;
        case 'sealed':
          sealedByReader();
          break;
      }
    });
    // A thread that ends without sealing (it failed) has nothing more to journal.
    thread.once('exit', () => sealedByReader());
    thread.once('error', (error) => {
      startFailed = true;
      log.error(`the reading thread failed: ${error.message}`);
      sealedByReader();
      resolveExit({ exit: { status: 1, code: 1, signal: null, startError: error.message } });
    });
  });
  for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
  if (!startFailed) log.info(describeExit(exit));

  if (streaming !== undefined) {
    // `exited` is the run's last entry. A server that has not answered yet gets a moment first, so
    // that an unreachable one is on record (`spooled`) for a script that ended quickly.
    const waited = new AbortController();
    const wait = sleep(Math.min(config.logStreaming.exitTimeoutMs, FIRST_ANSWER_WAIT_MS), undefined, { signal: waited.signal });
    await Promise.race([streaming.firstAnswer, wait]).catch(() => undefined);
    waited.abort();
    // The wait was cut short on purpose; nothing to report.
    wait.catch(() => undefined);
  }
  sealed = true;
  thread.postMessage({ type: 'seal', ...(event === undefined || streaming === undefined ? {} : { payload: event }) } satisfies ToReader);
  await intakeSealed;
  await streaming?.finish();
  return exit.status;
}
