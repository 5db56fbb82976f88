// What the intake processing keeps in a run's directory: its settings (in run.json) and its state at
// an intake segment boundary (intake-state.json). Types only, so that run-directory.ts, which reads
// and writes them, and the processing (intake-processor.ts) need not import each other.
import type { LogLevel } from '@keruta/protocol';
import type { LineSplitterState } from '../read/line-splitter.js';
import type { RecorderPosition } from './recorder.js';

/** What decides a run's entries besides its output; kept in run.json for a replay. */
export interface ProcessingSettings {
  readonly minLevel: LogLevel;
  readonly maxMessageLength: number;
  readonly excludePatterns: readonly string[];
  /** The reading thread masked the script's output before journaling it (intake-masker.ts): not again here. */
  readonly maskedInIntake?: boolean;
}

/** Everything the processing holds between records, at a journal offset. */
export interface ProcessingState {
  readonly offset: number;
  readonly position: RecorderPosition;
  readonly splitters: Readonly<Record<'stdout' | 'stderr', LineSplitterState>>;
}
