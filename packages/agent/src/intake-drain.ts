// The main thread's loop over the intake journal: reads what the reading thread appended, hands it
// to the processor (lines, levels, masking, numbering) and commits it to the spool, a bounded
// stretch per turn; sleeps until woken; waits while too much is spooled and not yet sent; and
// retries after a disk error. streaming.ts runs it beside delivery.
import type { AgentLog } from './agent-log.js';
import { openIntakeReader, unlinkQuietly, type IntakeReader } from './intake.js';
import { saveProcessingState, type IntakeProcessor } from './intake-processor.js';
import { SIGNAL_APPENDED, SIGNAL_ASLEEP } from './stream-messages.js';

/** Intake processed in one go before acknowledgements, sends and timers get their turn. */
const DRAIN_BYTES = 512 * 1024;
/** After the disk refused entries, the wait before trying again. */
export const DISK_RETRY_MS = 1000;

export interface IntakeDrainOptions {
  readonly dir: string;
  /** Shared with the reading thread: [records appended, this thread asleep]. */
  readonly signal: Int32Array;
  readonly processor: IntakeProcessor;
  readonly log: AgentLog;
  /** Entries spooled and not yet sent past which the drain waits for acknowledgements. */
  readonly unsentHighWater: number;
  /** Entries spooled and not yet sent. */
  unsent(): number;
  /** New entries are in the spool. */
  spooled(): void;
  /** Caught up with the intake (each time, before sleeping). */
  caughtUp(): void;
}

export interface IntakeDrain {
  /** Runs the loop on the next turn (the reading thread appended, or an acknowledgement made room). */
  schedule(): void;
  /** Waiting for acknowledgements: an acknowledgement should schedule the loop. */
  readonly paced: boolean;
  /**
   * The script has ended: processes the rest of the intake. Resolves true once all of it is in the
   * spool, false when `stop` aborts first, or a failing disk is still failing at `deadline`.
   */
  drainToEnd(deadline: number, stop: AbortSignal): Promise<boolean>;
  /** Nothing more is read from the intake. */
  close(): void;
}

export function createIntakeDrain(options: IntakeDrainOptions): IntakeDrain {
  const { dir, signal, processor, log } = options;
  /** Opened on first use: the reading thread creates the first segment. */
  let reader: IntakeReader | undefined;
  /** Intake segments read to their end, deleted once the state after them is saved. */
  const finishedSegments: string[] = [];
  let checkpointAt: number | undefined;
  let scheduled = false;
  let stalled = false;
  let paced = false;
  let diskErrorShown = false;
  let finishing: (() => void) | undefined;
  /** Set once the end is past the intake: nothing more is read from it. */
  let closed = false;

  /**
   * Spooled and not yet sent past which the intake waits: keruta-api takes ~200,000 lines a second,
   * this thread makes ~1.5 million, and making them sooner than they can be sent only takes CPU
   * from the script. Paced so, this thread works at the server's pace during a burst (and the
   * reading thread's wake-ups find an idle core rather than the script's).
   */
  const enoughUnsent = (): boolean => finishing === undefined && options.unsent() + processor.pending >= options.unsentHighWater;

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
    if (written > 0) options.spooled();
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
    reader ??= openIntakeReader(dir, 0);
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
    options.caughtUp();
    Atomics.store(signal, SIGNAL_ASLEEP, 1);
    // Appended after we looked: wake ourselves, unless the reading thread took the flag first (its wake is on the way).
    if (Atomics.load(signal, SIGNAL_APPENDED) !== seen && Atomics.compareExchange(signal, SIGNAL_ASLEEP, 1, 0) === 1) schedule();
  }

  return {
    schedule,
    get paced() {
      return paced;
    },
    drainToEnd: (deadline, stop) =>
      new Promise<boolean>((resolve) => {
        const diskWatch = setInterval(() => {
          if (stalled && Date.now() >= deadline) done(false);
        }, DISK_RETRY_MS / 10);
        const done = (all: boolean): void => {
          clearInterval(diskWatch);
          resolve(all);
        };
        stop.addEventListener('abort', () => done(false), { once: true });
        finishing = () => done(true);
        schedule();
      }),
    close() {
      closed = true;
      reader?.close();
    },
  };
}
