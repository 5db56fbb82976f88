// The processing side of a streamed run, on the agent's main thread: reads the intake journal that
// the reading thread (reader-worker.ts) appends to, turns it into entries (split, levels, masking,
// numbering), appends them to the run's spool and delivers them, along with what earlier runs left
// behind. However busy this gets, the reading thread keeps reading: a burst or a slow server costs
// disk here, never the script's time.
import { randomUUID } from 'node:crypto';
import type { AgentLog } from '../agent-log.js';
import type { AgentConfig } from '../config.js';
import { createDelivery, type Delivery, type DeliveryOptions, type FinishResult } from '../deliver/delivery.js';
import { claimSpooledRuns, sendLeftovers, type Leftovers, type SpooledRunsResult } from '../deliver/flush.js';
import { openNewRunSpool, type RunSpool } from '../deliver/spool.js';
import { createIntakeDrain, type IntakeDrain } from '../process/intake-drain.js';
import { createIntakeProcessor, splitterLengthOf } from '../process/intake-processor.js';
import type { ProcessingSettings } from '../process/processing-types.js';
import { createPartialLines, type PartialLines } from '../process/progress-line.js';
import { createRedactor } from '../process/redactor.js';
import type { EventPayload } from '../read/intake.js';
import { createWakeSignalBuffer } from '../read/wake-signal.js';
import { createRunDirectory, fallbackSpoolDir, removeIntake, removeProcessingState, spoolDirOf, type RunInfo } from './run-directory.js';

export interface Streaming {
  readonly dir: string;
  /** Shared with the reading thread: [records appended, this thread asleep]. */
  readonly signal: SharedArrayBuffer;
  /** For the reading thread: mask before journaling (filters.excludePatterns set). */
  readonly mask?: { readonly patterns: readonly string[]; readonly keepChars: number };
  /** The reading thread appended to the intake while this thread slept. */
  wake(): void;
  /** Resolves once the server has first answered (an acknowledgement) or first failed. */
  readonly firstAnswer: Promise<void>;
  /**
   * The script has ended and the intake is closed: processes the rest, waits for delivery (at most
   * the exit timeout; a second SIGINT/SIGTERM stops waiting) and says how many lines are kept, and
   * where, when some are undelivered.
   */
  finish(): Promise<void>;
}

export interface StreamingOptions {
  readonly config: AgentConfig;
  readonly log: AgentLog;
  readonly taskId: string;
  /** Has one of the agent's own entries journaled after everything read so far (by the reading thread). */
  readonly recordEvent: (payload: EventPayload) => void;
}

function makeRunDirectory(config: AgentConfig, log: AgentLog, info: RunInfo): string | undefined {
  try {
    return createRunDirectory(config.logStreaming.spoolDir, info);
  } catch (error) {
    const fallback = fallbackSpoolDir();
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    try {
      const dir = createRunDirectory(fallback, info);
      log.warn(`cannot write the spool in ${config.logStreaming.spoolDir} (${reason}); using ${fallback}`);
      return dir;
    } catch {
      log.warn(`cannot write the spool in ${config.logStreaming.spoolDir} (${reason}) nor in ${fallback}; lines are not streamed`);
      return undefined;
    }
  }
}

export function startStreaming({ config, log, taskId, recordEvent }: StreamingOptions): Streaming | undefined {
  const processing = processingSettingsOf(config);
  const info: RunInfo = { taskId, runId: randomUUID(), createdAt: new Date().toISOString(), processing };
  const dir = makeRunDirectory(config, log, info);
  if (dir === undefined) return undefined;

  const signalBuffer = createWakeSignalBuffer();
  const spool = openNewRunSpool(dir, info);
  const processor = createIntakeProcessor({ runId: info.runId, spool, settings: processing });
  const leftovers = claimSpooledRuns(spoolDirOf(dir), { skip: new Set([info.runId]) });
  const intake = createIntakeDrain({
    dir,
    signal: new Int32Array(signalBuffer),
    processor,
    log,
    unsentHighWater: 2 * config.logStreaming.bufferSize,
    unsent: () => delivery.unsent,
    spooled: () => delivery.notify(),
    caughtUp: () => showPartialLines(),
  });
  const event = (payload: EventPayload): void => {
    // An error is printed whatever --verbose says: after the intake is sealed it is only printed.
    if (payload.level === 'ERROR') log.error(payload.message);
    else log.info(payload.message);
    recordEvent(payload);
  };
  const delivery = createDelivery({
    taskId,
    config,
    log,
    ...deliveryEvents(event, info),
    onAcknowledged() {
      if (intake.paced) intake.schedule();
    },
  });
  delivery.connect();
  const partialLines = createPartialLines({
    runId: info.runId,
    minLevel: processing.minLevel,
    maxMessageLength: processing.maxMessageLength,
    redact: createRedactor(processing.excludePatterns),
    send: (frame) => delivery.sendEphemeral(frame),
  });
  /** Caught up with the intake: a line without its newline yet is what the script shows now. */
  const showPartialLines = (): void => {
    const { lines } = processor;
    partialLines.update('stdout', lines.stdout + 1, processor.partial('stdout'));
    partialLines.update('stderr', lines.stderr + 1, processor.partial('stderr'));
  };
  // This task's leftovers go first, this run after them.
  const earlier = sendLeftovers(leftovers, { taskId, config, log, delivery, live: spool });

  intake.schedule();

  return {
    dir,
    signal: signalBuffer,
    ...(processing.maskedInIntake === true ? { mask: { patterns: processing.excludePatterns, keepChars: splitterLengthOf(processing) } } : {}),
    wake: intake.schedule,
    firstAnswer: delivery.firstAnswer,
    finish: () => finishStreaming({ config, log, dir, intake, partialLines, spool, delivery, leftovers: earlier }),
  };
}

/** How the run's entries are made from its output; kept in run.json, so that a replay makes the same. */
function processingSettingsOf(config: AgentConfig): ProcessingSettings {
  return {
    minLevel: config.logging.level,
    maxMessageLength: config.logStreaming.maxMessageLength,
    excludePatterns: config.filters.excludePatterns,
    // A secret must not reach the disk: the reading thread masks before it journals.
    ...(config.filters.excludePatterns.length > 0 ? { maskedInIntake: true } : {}),
  };
}

/** The delivery's events, as the agent's own entries in the run (`event` prints and journals one). */
function deliveryEvents(event: (payload: EventPayload) => void, info: RunInfo): Pick<DeliveryOptions, 'onEvent' | 'onRunDelivered'> {
  return {
    onEvent(name, message, metadata) {
      event({ event: name, level: name === 'conflict' ? 'ERROR' : name === 'spooled' ? 'WARN' : 'INFO', message, metadata });
    },
    onRunDelivered(run) {
      if (run.runId === info.runId) return;
      event({
        event: 'delivered',
        level: 'INFO',
        message: `delivered the lines kept from an earlier run of task ${info.taskId} (${run.runId})`,
        metadata: { runId: run.runId, count: run.lastSeq },
      });
    },
  };
}

interface StreamingRun {
  readonly config: AgentConfig;
  readonly log: AgentLog;
  readonly dir: string;
  readonly intake: IntakeDrain;
  readonly partialLines: PartialLines;
  readonly spool: RunSpool;
  readonly delivery: Delivery;
  readonly leftovers: Leftovers;
}

/** Streaming.finish: the rest of the intake, the wait for delivery, and what is kept. */
async function finishStreaming({ config, log, dir, intake, partialLines, spool, delivery, leftovers }: StreamingRun): Promise<void> {
  const deadline = Date.now() + config.logStreaming.exitTimeoutMs;
  // A second Ctrl-C (or SIGTERM) while waiting for the server: stop waiting, keep the lines.
  const impatience = new AbortController();
  const stopWaiting = (): void => impatience.abort();
  process.once('SIGINT', stopWaiting);
  process.once('SIGTERM', stopWaiting);
  const leftoverTimer = setTimeout(() => leftovers.stop(), config.logStreaming.exitTimeoutMs);
  impatience.signal.addEventListener('abort', () => leftovers.stop(), { once: true });

  // The rest of the intake: local work, done whatever the exit timeout (which is for the
  // server), unless a failing disk outlasts it or the user's impatience cuts it short.
  const processedAll = await intake.drainToEnd(deadline, impatience.signal);
  intake.close();
  partialLines.stop();
  if (processedAll) {
    removeIntake(dir);
    removeProcessingState(dir);
    spool.seal();
  }
  await leftovers.ready;
  delivery.notify();
  const [own, otherResult] = await Promise.all([delivery.finish(deadline, impatience.signal), leftovers.others]);
  clearTimeout(leftoverTimer);
  process.off('SIGINT', stopWaiting);
  process.off('SIGTERM', stopWaiting);

  const stats = delivery.stats;
  log.info(`delivered ${stats.acknowledged} entries in ${stats.batches} batches (${stats.duplicates} already stored, ${stats.reconnects} reconnects)`);
  const dirs = processedAll || own.dirs.includes(dir) ? own.dirs : [...own.dirs, dir];
  reportKept(log, { ...own, dirs }, otherResult);
}

function reportKept(log: AgentLog, own: FinishResult, others: SpooledRunsResult | undefined): void {
  const kept = own.kept + (others?.kept ?? 0);
  const dirs = [...own.dirs, ...(others?.dirs ?? [])];
  if (dirs.length === 0) return;
  const failure = own.failure === undefined ? (others?.failures[0] ?? '') : `${own.failure.code}: ${own.failure.message}`;
  // kept is 0 with a directory left when the output was not all turned into lines in time (a failing disk).
  const what = kept === 0 ? 'the last output was' : `${kept} lines were`;
  log.warn(
    `${what} not delivered to keruta-api${failure === '' ? '' : ` (${failure})`}; ` +
      `kept in ${dirs.join(', ')}; the next keruta-agent run or "keruta-agent flush" sends them`,
  );
}
