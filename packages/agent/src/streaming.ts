// The processing side of a streamed run, on the agent's main thread: reads the intake journal that
// the reading thread (reader-worker.ts) appends to, turns it into entries (split, levels, masking,
// numbering), appends them to the run's spool and delivers them, along with what earlier runs left
// behind. However busy this gets, the reading thread keeps reading: a burst or a slow server costs
// disk here, never the script's time.
import { randomUUID } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AgentLog } from './agent-log.js';
import type { AgentConfig } from './config.js';
import { createDelivery, type FinishResult } from './delivery.js';
import { claimSpooledRuns, deliverSpooledRuns, prepareRun, type SpooledRunsResult } from './flush.js';
import { openIntakeReader, removeIntake, unlinkQuietly, type IntakeReader } from './intake.js';
import {
  createIntakeProcessor,
  removeProcessingState,
  splitterLengthOf,
  saveProcessingState,
  type EventPayload,
  type ProcessingSettings,
} from './intake-processor.js';
import { createPartialLines } from './progress-line.js';
import { createRedactor } from './redactor.js';
import { createRunDirectory, openNewRunSpool, type RunInfo } from './spool.js';
import { SIGNAL_APPENDED, SIGNAL_ASLEEP } from './stream-messages.js';

/** Intake processed in one go before acknowledgements, sends and timers get their turn. */
const DRAIN_BYTES = 512 * 1024;
/** After the disk refused entries, the wait before trying again. */
const DISK_RETRY_MS = 1000;

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
    const fallback = join(tmpdir(), `keruta-spool-${userInfo().username}`);
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
  const processing: ProcessingSettings = {
    minLevel: config.logging.level,
    maxMessageLength: config.logStreaming.maxMessageLength,
    excludePatterns: config.filters.excludePatterns,
    // A secret must not reach the disk: the reading thread masks before it journals.
    ...(config.filters.excludePatterns.length > 0 ? { maskedInIntake: true } : {}),
  };
  const info: RunInfo = { taskId, runId: randomUUID(), createdAt: new Date().toISOString(), processing };
  const dir = makeRunDirectory(config, log, info);
  if (dir === undefined) return undefined;

  const signalBuffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const signal = new Int32Array(signalBuffer);
  const spool = openNewRunSpool(dir, info);
  const processor = createIntakeProcessor({ runId: info.runId, spool, settings: processing });
  /** Opened on first use: the reading thread creates the first segment. */
  let reader: IntakeReader | undefined;

  const leftovers = claimSpooledRuns(dirname(dir), { skip: new Set([info.runId]) });
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
    onEvent(name, message, metadata) {
      event({ event: name, level: name === 'conflict' ? 'ERROR' : name === 'spooled' ? 'WARN' : 'INFO', message, metadata });
    },
    onAcknowledged() {
      if (paced) schedule();
    },
    onRunDelivered(run) {
      if (run.runId === info.runId) return;
      event({
        event: 'delivered',
        level: 'INFO',
        message: `delivered the lines kept from an earlier run of task ${taskId} (${run.runId})`,
        metadata: { runId: run.runId, count: run.lastSeq },
      });
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
  // This task's leftovers go first, this run after them. Their replay (if their agent was killed)
  // waits until the script has started and yields as it goes: a big one delays delivery, not the script.
  const ownLeftovers = leftovers.filter((r) => r.taskId === taskId);
  const deliveryReady = (async () => {
    await nextTurn();
    for (const run of ownLeftovers) {
      await prepareRun(run, log);
      delivery.add(run);
    }
    delivery.add(spool);
  })();
  const stopLeftovers = new AbortController();
  const otherLeftovers = leftovers.filter((r) => r.taskId !== taskId);
  const others =
    otherLeftovers.length === 0 ? undefined : nextTurn().then(() => deliverSpooledRuns(otherLeftovers, { config, log, signal: stopLeftovers.signal }));

  /** Intake segments read to their end, deleted once the state after them is saved. */
  const finishedSegments: string[] = [];
  let checkpointAt: number | undefined;
  let scheduled = false;
  let stalled = false;
  let diskErrorShown = false;
  let finishing: (() => void) | undefined;
  /** Set once finish() is past the intake: nothing more is read from it. */
  let closed = false;
  /**
   * Entries spooled and not yet sent past which the intake waits: keruta-api takes ~200,000 lines a
   * second, this thread makes ~1.5 million, and making them sooner than they can be sent only
   * takes CPU from the script. Paced so, this thread works at the server's pace during a burst
   * (and the reading thread's wake-ups find an idle core rather than the script's).
   */
  const unsentHighWater = 2 * config.logStreaming.bufferSize;
  let paced = false;
  const enoughUnsent = (): boolean => finishing === undefined && delivery.unsent + processor.pending >= unsentHighWater;

  /** Writes what was processed to the spool; at a segment's end also saves the state and frees the segment. */
  const commit = (): boolean => {
    const written = processor.pending;
    const flushed = processor.flush();
    if (!flushed.ok) {
      if (!diskErrorShown) {
        diskErrorShown = true;
        log.warn(`cannot write the spool in ${dir} (${flushed.reason}); the output is kept unprocessed and tried again every ${DISK_RETRY_MS / 1000} s`);
      }
      return false;
    }
    if (written > 0) delivery.notify();
    if (checkpointAt !== undefined) {
      try {
        saveProcessingState(dir, processor.state(checkpointAt));
        for (const path of finishedSegments.splice(0)) unlinkQuietly(path);
      } catch {
        // The state could not be saved: keep the segments; the next boundary saves a later state.
      }
      checkpointAt = undefined;
    }
    return true;
  };

  const schedule = (): void => {
    if (scheduled || stalled) return;
    scheduled = true;
    setImmediate(drain);
  };

  const stall = (): void => {
    stalled = true;
    setTimeout(() => {
      stalled = false;
      schedule();
    }, DISK_RETRY_MS);
  };

  /** Processes what the intake holds, a bounded stretch at a time, then sleeps until woken. */
  function drain(): void {
    scheduled = false;
    if (closed) return;
    if (!commit()) return stall();
    paced = enoughUnsent();
    if (paced) return;
    const seen = Atomics.load(signal, SIGNAL_APPENDED);
    reader ??= openIntakeReader(dir as string, 0);
    let bytes = 0;
    while (bytes < DRAIN_BYTES) {
      if (enoughUnsent()) break;
      const record = reader.next();
      if (record === undefined) break;
      if (record.kind === 'segment-end') {
        finishedSegments.push(record.path);
        checkpointAt = record.nextOffset;
        if (!commit()) return stall();
        continue;
      }
      processor.take(record);
      bytes += record.payload.length + 16;
    }
    if (!commit()) return stall();
    if (bytes >= DRAIN_BYTES || enoughUnsent()) return schedule();
    if (finishing !== undefined) return finishing();
    showPartialLines();
    Atomics.store(signal, SIGNAL_ASLEEP, 1);
    // Appended after we looked: wake ourselves, unless the reading thread took the flag first (its wake is on the way).
    if (Atomics.load(signal, SIGNAL_APPENDED) !== seen && Atomics.compareExchange(signal, SIGNAL_ASLEEP, 1, 0) === 1) schedule();
  }
  schedule();

  return {
    dir,
    signal: signalBuffer,
    ...(processing.maskedInIntake === true ? { mask: { patterns: processing.excludePatterns, keepChars: splitterLengthOf(processing) } } : {}),
    wake: schedule,
    firstAnswer: delivery.firstAnswer,
    async finish() {
      const deadline = Date.now() + config.logStreaming.exitTimeoutMs;
      // A second Ctrl-C (or SIGTERM) while waiting for the server: stop waiting, keep the lines.
      const impatience = new AbortController();
      const stopWaiting = (): void => impatience.abort();
      process.once('SIGINT', stopWaiting);
      process.once('SIGTERM', stopWaiting);
      const leftoverTimer = setTimeout(() => stopLeftovers.abort(), config.logStreaming.exitTimeoutMs);
      impatience.signal.addEventListener('abort', () => stopLeftovers.abort(), { once: true });

      // The rest of the intake: local work, done whatever the exit timeout (which is for the
      // server), unless a failing disk outlasts it or the user's impatience cuts it short.
      const processedAll = await new Promise<boolean>((resolve) => {
        const diskWatch = setInterval(() => {
          if (stalled && Date.now() >= deadline) done(false);
        }, DISK_RETRY_MS / 10);
        const done = (all: boolean): void => {
          clearInterval(diskWatch);
          resolve(all);
        };
        impatience.signal.addEventListener('abort', () => done(false), { once: true });
        finishing = () => done(true);
        schedule();
      });
      closed = true;
      partialLines.stop();
      reader?.close();
      if (processedAll) {
        removeIntake(dir);
        removeProcessingState(dir);
        spool.seal();
      }
      await deliveryReady;
      delivery.notify();
      const [own, otherResult] = await Promise.all([delivery.finish(deadline, impatience.signal), others]);
      clearTimeout(leftoverTimer);
      process.off('SIGINT', stopWaiting);
      process.off('SIGTERM', stopWaiting);

      const stats = delivery.stats;
      log.info(`delivered ${stats.acknowledged} entries in ${stats.batches} batches (${stats.duplicates} already stored, ${stats.reconnects} reconnects)`);
      const dirs = processedAll || own.dirs.includes(dir) ? own.dirs : [...own.dirs, dir];
      reportKept(log, { ...own, dirs }, otherResult);
    },
  };
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
