// After a kill -9, the intake a dead agent had read but not yet turned into entries: replayed
// into its spool by the next agent (any `execute`, or `flush`) before the run is delivered. The
// processing resumes from the state saved at the last segment boundary and writes exactly the
// entries the dead agent would have; those it had already spooled are numbered and skipped. A
// run whose intake ends without `exited` (the agent died before the script did) ends with a
// `lost` entry: the task is then `failed`, with no exit code, instead of `running` for ever.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RunSpool } from '../deliver/spool.js';
import { openIntakeReader } from '../read/intake.js';
import { listIntakeSegments, readProcessingState, removeIntake, removeProcessingState, unlinkQuietly } from '../run/run-directory.js';
import { createIntakeProcessor } from './intake-processor.js';

/** Entries gathered before a replay writes them to the spool. */
const REPLAY_FLUSH_ENTRIES = 10_000;
/** Intake replayed before the event loop gets a turn: a big leftover must not hold up the agent. */
const REPLAY_SLICE_BYTES = 1024 * 1024;

/** Turns what is left of `run`'s intake into spooled entries, then removes the intake. */
export async function replayIntake(run: RunSpool): Promise<{ ok: true } | { ok: false; reason: string }> {
  const segments = listIntakeSegments(run.dir);
  if (segments.length === 0) return { ok: true };
  const settings = run.processing;
  if (settings === undefined) {
    // Only agents that write run.json with its processing settings keep an intake; this one is not ours to read.
    removeIntake(run.dir);
    return { ok: true };
  }
  const state = readProcessingState(run.dir);
  const from = state?.offset ?? 0;
  // Segments wholly before the saved state were processed; their deletion was cut short.
  for (const segment of segments) if (segment.offset < from) unlinkQuietly(segment.path);
  if (state !== undefined) run.resumeAt(state.position.nextSeq);
  const processor = createIntakeProcessor({
    runId: run.runId,
    spool: run,
    settings,
    ...(state === undefined ? {} : { state }),
    skipThrough: run.lastSeq,
  });
  const reader = openIntakeReader(run.dir, from);
  try {
    let slice = 0;
    // A torn last record (the agent died writing it) is never returned: it was not read whole.
    for (let record = reader.next(); record !== undefined; record = reader.next()) {
      if (record.kind === 'segment-end') continue;
      processor.take(record);
      if (processor.pending >= REPLAY_FLUSH_ENTRIES) {
        const flushed = processor.flush();
        if (!flushed.ok) return flushed;
      }
      slice += record.payload.length;
      if (slice >= REPLAY_SLICE_BYTES) {
        slice = 0;
        await nextTurn();
      }
    }
  } finally {
    reader.close();
  }
  // The agent is gone and so are the script's pipes: a last line without a newline is complete.
  processor.endLines();
  if (!processor.exited) {
    processor.event({
      event: 'lost',
      level: 'ERROR',
      message: 'keruta-agent ended before the script did (it was killed, or its machine stopped): the output it had read is all here; how the script ended is unknown',
      metadata: { replayedBy: process.pid },
      timeMs: Date.now(),
    });
  }
  const flushed = processor.flush();
  if (!flushed.ok) return flushed;
  removeIntake(run.dir);
  removeProcessingState(run.dir);
  return { ok: true };
}
