// Which runs a batch writes to, and who may: the first writer of a run owns it, so a writer
// who has learnt another's runId cannot fill its coming runSeqs first and have the agent's own
// lines dropped as duplicates. Both stores keep the owners in a `runs` table.
import { KerutaError, type NormalizedLogRequest } from '@keruta/protocol';

/** The runSeq range of each runId in a batch, keyed by the runId as stored. */
export type RunRanges = Map<string, { min: number; max: number }>;

export function runRanges(entries: readonly NormalizedLogRequest[], storable: (text: string) => string): RunRanges {
  const ranges: RunRanges = new Map();
  for (const entry of entries) {
    const { runSeq } = entry;
    if (entry.runId === undefined || runSeq === undefined) continue;
    const runId = storable(entry.runId);
    const range = ranges.get(runId);
    if (range === undefined) ranges.set(runId, { min: runSeq, max: runSeq });
    else if (runSeq < range.min) range.min = runSeq;
    else if (runSeq > range.max) range.max = runSeq;
  }
  return ranges;
}

/** Throws FORBIDDEN when the run's owner, as stored after claiming it for `writer`, is someone else. */
export function checkRunOwner(taskId: string, runId: string, writer: string, owner: string | undefined): void {
  if (owner === undefined || owner === writer) return;
  throw new KerutaError(
    'FORBIDDEN',
    `run ${runId} of task ${taskId} is written by another credential; a run's lines come from the credential that started it`,
  );
}
