// Timestamps as the log shows them: local wall-clock time with milliseconds, built from the
// Date's fields (a formatter per row would cost more than the row).

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

export function formatTime(epochMs: number): string {
  if (Number.isNaN(epochMs)) return '--:--:--.---';
  const d = new Date(epochMs);
  return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
}

/** Date and time, for tooltips. */
export function formatDateTime(epochMs: number): string {
  return Number.isNaN(epochMs) ? 'unknown time' : new Date(epochMs).toISOString();
}
