// How two runs' lines are compared: what always differs between runs (timestamps, durations,
// hex ids and UUIDs, other numbers, terminal colours) is replaced by a placeholder first.

/** What normaliseLine replaces, in order, each with its placeholder. */
export const NORMALISED = ['timestamps', 'uuids', 'hex ids', 'durations', 'numbers'] as const;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
const TIMESTAMP = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g;
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
/** 0x… of any length, or 7+ hex digits holding both a digit and a letter (a commit, a container id). */
const HEX = /\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{7,}\b/g;
const DURATION = /\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)\b/g;
const NUMBER = /\d+(?:\.\d+)?/g;

/** The line as compared: `took 12.3 s at 2024-05-01T10:00:00Z, id 3f9a2c1` → `took <dur> at <time>, id <hex>`. */
export function normaliseLine(message: string): string {
  const plain = message.includes('\u001b') ? message.replace(ANSI, '') : message;
  return plain
    .replace(TIMESTAMP, '<time>')
    .replace(UUID, '<uuid>')
    .replace(HEX, '<hex>')
    .replace(DURATION, '<dur>')
    .replace(NUMBER, '<n>')
    .trimEnd();
}
