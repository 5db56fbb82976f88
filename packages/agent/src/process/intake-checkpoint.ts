// Makes what the processing took from the intake durable: its entries go to the spool, and at the
// end of an intake segment the processing state there is saved, after which the segments read to
// their end are deleted. A replay after a kill -9 starts from the last state saved.
import type { AgentLog } from '../agent-log.js';
import { saveProcessingState, unlinkQuietly } from '../run/run-directory.js';
import type { IntakeProcessor } from './intake-processor.js';

export interface IntakeCheckpoint {
  /** The reader passed the end of segment `path`: the state at `nextOffset` is saved with the next commit, then the segment deleted. */
  segmentEnded(path: string, nextOffset: number): void;
  /**
   * Writes what was processed to the spool and saves the state due. False on a disk error (said
   * once): the entries stay with the processor, and the caller tries again after `retryMs`.
   */
  commit(): boolean;
}

export interface IntakeCheckpointOptions {
  readonly dir: string;
  readonly processor: IntakeProcessor;
  readonly log: AgentLog;
  readonly retryMs: number;
  /** New entries are in the spool. */
  readonly spooled: () => void;
}

export function createIntakeCheckpoint(options: IntakeCheckpointOptions): IntakeCheckpoint {
  const { dir, processor, log } = options;
  let diskErrorShown = false;
  /** Intake segments read to their end, deleted once the state after them is saved. */
  const finishedSegments: string[] = [];
  let checkpointAt: number | undefined;
  return {
    segmentEnded(path, nextOffset) {
      finishedSegments.push(path);
      checkpointAt = nextOffset;
    },
    commit() {
      const written = processor.pending;
      const flushed = processor.flush();
      if (!flushed.ok) {
        if (!diskErrorShown) {
          diskErrorShown = true;
          log.warn(`cannot write the spool in ${dir} (${flushed.reason}); the output is kept unprocessed and tried again every ${options.retryMs / 1000} s`);
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
    },
  };
}
