// The main thread's loop over the intake journal: reads what the reading thread appended, hands it
// to the processor (lines, levels, masking, numbering) and commits it to the spool, a bounded
// stretch per turn; sleeps until woken; waits while too much is spooled and not yet sent; and
// retries after a disk error. streaming.ts runs it beside delivery.
import type { AgentLog } from '../agent-log.js';
import { openIntakeReader, type IntakeReader } from '../read/intake.js';
import { appendedSoFar, fallAsleep } from '../read/wake-signal.js';
import { createIntakeCheckpoint } from './intake-checkpoint.js';
import type { IntakeProcessor } from './intake-processor.js';

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
  const checkpoint = createIntakeCheckpoint({ dir, processor, log, retryMs: DISK_RETRY_MS, spooled: options.spooled });
  const turns = createTurns(() => drain());
  const { schedule, stall } = turns;
  let paced = false;
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

  /** Processes what the intake holds, a bounded stretch at a time, then sleeps until woken. */
  const drain = (): void => {
    if (closed) return;
    if (!checkpoint.commit()) return stall();
    paced = enoughUnsent();
    if (paced) return;
    const seen = appendedSoFar(signal);
    reader ??= openIntakeReader(dir, 0);
    let bytes = 0;
    while (bytes < DRAIN_BYTES) {
      if (enoughUnsent()) break;
      const record = reader.next();
      if (record === undefined) break;
      if (record.kind === 'segment-end') {
        checkpoint.segmentEnded(record.path, record.nextOffset);
        if (!checkpoint.commit()) return stall();
        continue;
      }
      processor.take(record);
      bytes += record.payload.length + 16;
    }
    if (!checkpoint.commit()) return stall();
    if (bytes >= DRAIN_BYTES || enoughUnsent()) return schedule();
    if (finishing !== undefined) return finishing();
    options.caughtUp();
    if (fallAsleep(signal, seen)) schedule();
  };

  return {
    schedule,
    get paced() {
      return paced;
    },
    drainToEnd: (deadline, stop) =>
      new Promise<boolean>((resolve) => {
        const diskWatch = setInterval(() => {
          if (turns.stalled && Date.now() >= deadline) done(false);
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

/** Runs `turn` on the next turn of the event loop, once however often it is asked for in between; after a stall (a disk error), not before DISK_RETRY_MS. */
function createTurns(turn: () => void): { schedule(): void; stall(): void; readonly stalled: boolean } {
  let scheduled = false;
  let stalled = false;
  const schedule = (): void => {
    if (scheduled || stalled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      turn();
    });
  };
  return {
    schedule,
    stall() {
      stalled = true;
      setTimeout(() => {
        stalled = false;
        schedule();
      }, DISK_RETRY_MS);
    },
    get stalled() {
      return stalled;
    },
  };
}
