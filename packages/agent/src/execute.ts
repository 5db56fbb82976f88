// `keruta-agent execute`: runs the script, prints its output unchanged, records every line in the
// run's spool and has it delivered; at exit waits a bounded time for the server's acknowledgements
// and says how many lines it kept, and where, when some are still undelivered.
import { randomUUID } from 'node:crypto';
import { hostname, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { LogLevel } from '@keruta/protocol';
import type { AgentLog } from './agent-log.js';
import type { AgentConfig } from './config.js';
import { createDelivery, type Delivery, type DeliveryEvent, type FinishResult } from './delivery.js';
import { exitStatusOf } from './errors.js';
import { claimSpooledRuns, deliverSpooledRuns, type SpooledRunsResult } from './flush.js';
import { createLineSplitter, type LineSplitter } from './line-splitter.js';
import { createRecorder, type Recorder } from './recorder.js';
import { createRedactor } from './redactor.js';
import { runScript, type ScriptExit } from './runner.js';
import { createRunSpool, type RunSpool } from './spool.js';

export interface ExecuteOptions {
  readonly config: AgentConfig;
  readonly log: AgentLog;
  readonly taskId: string;
  readonly scriptPath: string;
  readonly args: readonly string[];
}

/** Room kept past the maximum so a secret cut in half by the limit is still masked whole. */
const REDACTION_MARGIN = 1024;

interface Streaming {
  readonly spool: RunSpool;
  readonly recorder: Recorder;
  readonly delivery: Delivery;
  readonly splitters: Record<'stdout' | 'stderr', LineSplitter>;
  /** Leftovers of other tasks, sent alongside this run. */
  readonly leftovers: Promise<SpooledRunsResult> | undefined;
  readonly stopLeftovers: AbortController;
  /** Set once the `exited` entry is written: later agent events are only printed. */
  sealed: boolean;
}

/** Returns the exit status the agent ends with: the script's. */
export async function execute(options: ExecuteOptions): Promise<number> {
  const { config, log, taskId, args } = options;
  const scriptPath = resolve(options.scriptPath);
  const streaming = config.logStreaming.enabled ? startStreaming(options) : undefined;
  if (streaming === undefined) log.info('log streaming is disabled: nothing is sent');

  let stdoutBroken = false;
  let stderrBroken = false;
  // The reader of our output went away (`| head`): keep running the script and streaming its lines.
  process.stdout.on('error', () => (stdoutBroken = true));
  process.stderr.on('error', () => (stderrBroken = true));

  // Our terminal (or whatever reads our output) is as slow as it is: when it falls behind, stop
  // reading that pipe of the script until it drains, as the script would be without the agent.
  // The network never does this; only the local reader can.
  const waiting = { stdout: false, stderr: false };
  const echo = (source: 'stdout' | 'stderr', chunk: Buffer): void => {
    const out = process[source];
    if ((source === 'stdout' ? stdoutBroken : stderrBroken) || out.write(chunk) || waiting[source] || !run.ok) return;
    const script = run.value;
    waiting[source] = true;
    script.pause(source);
    out.once('drain', () => {
      waiting[source] = false;
      script.resume(source);
    });
  };

  const startedAt = Date.now();
  const run = runScript({
    scriptPath,
    args,
    env: { ...config.environment, KERUTA_TASK_ID: taskId },
    onStdout(chunk) {
      echo('stdout', chunk);
      if (streaming !== undefined) take(streaming, 'stdout', chunk);
    },
    onStderr(chunk) {
      echo('stderr', chunk);
      if (streaming !== undefined) take(streaming, 'stderr', chunk);
    },
    onSignal(signal) {
      log.info(`received ${signal}; passed on to the script`);
    },
  });

  let exit: ScriptExit;
  if (!run.ok) {
    log.error(run.error.message);
    const status = exitStatusOf(run.error);
    exit = { status, code: status, signal: null };
    streaming?.recorder.event('exited', 'ERROR', run.error.message, { exitCode: status, reason: run.error.code, scriptPath });
  } else {
    log.info(`started ${scriptPath} (pid ${run.value.pid}, ${run.value.via === 'sh' ? 'with sh' : 'by its #! line'})`);
    streaming?.recorder.event('started', 'INFO', `started ${scriptPath}`, {
      scriptPath,
      processId: run.value.pid,
      argsCount: args.length,
      runner: run.value.via,
      agentPid: process.pid,
      hostname: hostname(),
    });
    exit = await run.value.exited;
    if (exit.startError !== undefined) log.error(exit.startError);
    if (streaming !== undefined) {
      streaming.splitters.stdout.end();
      streaming.splitters.stderr.end();
      streaming.recorder.flush();
      streaming.recorder.event('exited', exit.status === 0 ? 'INFO' : 'ERROR', describeExit(exit), {
        exitCode: exit.status,
        ...(exit.signal === null ? {} : { signal: exit.signal }),
        ...(exit.startError === undefined ? {} : { reason: exit.startError }),
        durationMs: Date.now() - startedAt,
        lines: { stdout: streaming.recorder.lines.stdout, stderr: streaming.recorder.lines.stderr },
      });
    }
    log.info(describeExit(exit));
  }

  if (streaming !== undefined) await finishStreaming(streaming, options);
  return exit.status;
}

function describeExit(exit: ScriptExit): string {
  if (exit.signal !== null) return `killed by signal ${exit.signal} (exit code ${exit.status})`;
  return `exited with code ${exit.status}`;
}

function take(streaming: Streaming, source: 'stdout' | 'stderr', chunk: Buffer): void {
  streaming.recorder.beginChunk();
  streaming.splitters[source].push(chunk);
  streaming.recorder.commit();
}

function openSpool(config: AgentConfig, log: AgentLog, taskId: string, runId: string): RunSpool | undefined {
  const info = { taskId, runId, createdAt: new Date().toISOString() };
  try {
    return createRunSpool(config.logStreaming.spoolDir, info);
  } catch (error) {
    const fallback = join(tmpdir(), `keruta-spool-${userInfo().username}`);
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    try {
      const spool = createRunSpool(fallback, info);
      log.warn(`cannot write the spool in ${config.logStreaming.spoolDir} (${reason}); using ${fallback}`);
      return spool;
    } catch {
      log.warn(`cannot write the spool in ${config.logStreaming.spoolDir} (${reason}) nor in ${fallback}; lines are not streamed`);
      return undefined;
    }
  }
}

function startStreaming({ config, log, taskId }: ExecuteOptions): Streaming | undefined {
  const runId = randomUUID();
  const spool = openSpool(config, log, taskId, runId);
  if (spool === undefined) return undefined;

  const leftovers = claimSpooledRuns(dirname(spool.dir), { skip: new Set([runId]) });
  const ownLeftovers = leftovers.filter((r) => r.taskId === taskId);
  const otherLeftovers = leftovers.filter((r) => r.taskId !== taskId);

  // Delivery reports events before the rest of the streaming state exists; they find it here.
  const current: { streaming?: Streaming } = {};
  const recordEvent = (event: DeliveryEvent, message: string, metadata: Record<string, unknown>): void => {
    log.info(message);
    const streaming = current.streaming;
    if (streaming !== undefined && !streaming.sealed) {
      const level: LogLevel = event === 'spooled' ? 'WARN' : 'INFO';
      streaming.recorder.event(event, level, message, metadata);
    }
  };
  const delivery = createDelivery({
    taskId,
    config,
    log,
    onEvent: recordEvent,
    onRunDelivered(run) {
      if (run.runId === runId) return;
      recordEvent('delivered', `delivered the lines kept from an earlier run of task ${taskId} (${run.runId})`, { runId: run.runId, count: run.lastSeq });
    },
  });
  let diskErrorShown = false;
  const recorder = createRecorder({
    runId,
    spool,
    minLevel: config.logging.level,
    redact: createRedactor(config.filters.excludePatterns),
    maxMessageLength: config.logStreaming.maxMessageLength,
    onAppended: () => delivery.notify(),
    onDiskError(reason, lost) {
      if (diskErrorShown) return;
      diskErrorShown = true;
      log.warn(`cannot write the spool in ${spool.dir} (${reason}); ${lost} lines could not be kept for keruta-api`);
    },
  });
  const splitterLength = config.logStreaming.maxMessageLength + (config.filters.excludePatterns.length > 0 ? REDACTION_MARGIN : 0);
  const splitter = (source: 'stdout' | 'stderr'): LineSplitter =>
    createLineSplitter({ maxLength: splitterLength, onLine: (line, truncated) => recorder.line(source, line, truncated) });

  for (const run of ownLeftovers) delivery.add(run);
  delivery.add(spool);
  const stopLeftovers = new AbortController();
  const signalled = stopLeftovers.signal;
  const streaming: Streaming = {
    spool,
    recorder,
    delivery,
    splitters: { stdout: splitter('stdout'), stderr: splitter('stderr') },
    leftovers: otherLeftovers.length === 0 ? undefined : deliverSpooledRuns(otherLeftovers, { config, log, signal: signalled }),
    stopLeftovers,
    sealed: false,
  };
  current.streaming = streaming;
  return streaming;
}

async function finishStreaming(streaming: Streaming, { config, log }: ExecuteOptions): Promise<void> {
  streaming.sealed = true;
  streaming.spool.seal();
  streaming.delivery.notify();

  // A second Ctrl-C (or SIGTERM) while waiting for the server: stop waiting, keep the lines.
  const impatience = new AbortController();
  const stopWaiting = (): void => impatience.abort();
  process.once('SIGINT', stopWaiting);
  process.once('SIGTERM', stopWaiting);
  const deadline = Date.now() + config.logStreaming.exitTimeoutMs;
  const leftoverTimer = setTimeout(() => streaming.stopLeftovers.abort(), config.logStreaming.exitTimeoutMs);
  impatience.signal.addEventListener('abort', () => streaming.stopLeftovers.abort(), { once: true });

  const [own, others] = await Promise.all([
    streaming.delivery.finish(deadline, impatience.signal),
    streaming.leftovers,
  ]);
  clearTimeout(leftoverTimer);
  process.off('SIGINT', stopWaiting);
  process.off('SIGTERM', stopWaiting);

  const stats = streaming.delivery.stats;
  log.info(`delivered ${stats.acknowledged} entries in ${stats.batches} batches (${stats.duplicates} already stored, ${stats.reconnects} reconnects)`);
  reportKept(log, own, others);
}

function reportKept(log: AgentLog, own: FinishResult, others: SpooledRunsResult | undefined): void {
  const kept = own.kept + (others?.kept ?? 0);
  if (kept === 0) return;
  const dirs = [...own.dirs, ...(others?.dirs ?? [])];
  const failure = own.failure === undefined ? (others?.failures[0] ?? '') : `${own.failure.code}: ${own.failure.message}`;
  log.warn(
    `${kept} lines were not delivered to keruta-api${failure === '' ? '' : ` (${failure})`}; ` +
      `kept in ${dirs.join(', ')}; the next keruta-agent run or "keruta-agent flush" sends them`,
  );
}
