// What both stores' deletes share: chunks of a fixed number of entries over the primary key, each
// committed with the task's counters, and the time range of what the chunks kept.

/** Entries one chunk looks at: tens of milliseconds of work, whatever the size of the task. */
export const DELETE_CHUNK_SIZE = 10_000;

/** Beyond every epoch-ms timestamp: "before" for a delete of everything. */
export const END_OF_TIME = Number.MAX_SAFE_INTEGER;

export interface TimeRange {
  min: number | null;
  max: number | null;
}

/** The range covering both; a missing range or end widens nothing. */
export function widenRange(range: TimeRange, by: TimeRange | undefined): TimeRange {
  const min = by?.min ?? null;
  const max = by?.max ?? null;
  return {
    min: range.min === null ? min : min === null ? range.min : Math.min(range.min, min),
    max: range.max === null ? max : max === null ? range.max : Math.max(range.max, max),
  };
}
