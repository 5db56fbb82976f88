// The logs the usage-guide tests run the guide's samples against: two runs of a script for
// `task123` (one before 2024-01-01, one after), and a few lines of another task that no sample
// may touch. The expected stored entries are derived from the seed, not read back from the server.
import { entryId, type LogEntry, type LogLevel, type LogSource } from '@keruta/protocol';

export const TASK = 'task123';
export const OTHER_TASK = 'task456';
/** The `before` of the guide's delete sample. */
const GUIDE_BEFORE = '2024-01-01T00:00:00Z';
const BEFORE_MS = Date.parse(GUIDE_BEFORE);

interface SeedLine {
  source: LogSource;
  level: LogLevel;
  message: string;
  timestamp: string;
  lineNumber: number;
  metadata: Record<string, unknown>;
  runId: string;
  runSeq: number;
}

/** Lines whose text tests quoting: CSV commas and quotes, formulas, tabs, backslashes, Japanese. */
const TRICKY_MESSAGES: readonly [LogSource, LogLevel, string][] = [
  ['stdout', 'INFO', 'Connecting to db at "postgres://db:5432/app", attempt 1'],
  ['stderr', 'ERROR', 'Error: connect ECONNREFUSED 127.0.0.1:5432'],
  ['stdout', 'INFO', 'ビルド完了: 3 個のファイル, 警告 0 件'],
  ['stdout', 'WARN', '=HYPERLINK("http://example.invalid","click")'],
  ['stdout', 'INFO', '-- migration 42 applied'],
  ['stdout', 'INFO', 'name\tsize\tpath'],
  ['stdout', 'DEBUG', 'C:\\build\\out\\app.exe written'],
  ['stdout', 'INFO', ''],
  ['stdout', 'INFO', '    at Object.<anonymous> (/app/index.js:10:5)'],
  ['stderr', 'WARN', "npm WARN deprecated request@2.88.2: it's deprecated"],
];

function scriptRun(runId: string, startMs: number, lineCount: number, withTrickyLines: boolean): SeedLine[] {
  const lines: SeedLine[] = [];
  const lineNumbers: Record<LogSource, number> = { stdout: 0, stderr: 0, agent: 0 };
  const push = (source: LogSource, level: LogLevel, message: string, metadata: Record<string, unknown> = {}): void => {
    lineNumbers[source] += 1;
    lines.push({
      source,
      level,
      message,
      // 250 ms apart, so that every line has its own timestamp.
      timestamp: new Date(startMs + lines.length * 250).toISOString(),
      lineNumber: lineNumbers[source],
      metadata,
      runId,
      runSeq: lines.length + 1,
    });
  };
  push('agent', 'INFO', `started /path/to/script.sh (run ${runId})`, { event: 'started', processId: 4242, scriptPath: '/path/to/script.sh' });
  for (let i = 0; lines.length < lineCount - 1; i++) {
    const tricky = withTrickyLines && i % 12 === 5 ? TRICKY_MESSAGES[Math.floor(i / 12) % TRICKY_MESSAGES.length] : undefined;
    if (tricky !== undefined) {
      push(...tricky);
    } else if (i % 7 === 3) {
      push('stderr', i % 2 === 0 ? 'ERROR' : 'WARN', `step ${i}: retrying after timeout`);
    } else if (i % 5 === 4) {
      push('stdout', 'ERROR', `step ${i}: ERROR test case ${i} failed`);
    } else if (i % 6 === 1) {
      push('stdout', 'DEBUG', `[DEBUG] step ${i}: cache key sha256:${(i * 7919).toString(16)}`);
    } else {
      push('stdout', 'INFO', `step ${i}: ok (${i * 3} ms)`);
    }
  }
  push('agent', 'INFO', 'script exited with code 1', { event: 'exited', exitCode: 1 });
  return lines;
}

/** task123: 12 lines of a run on 2023-12-31, then 125 of a run that starts exactly at 2024-01-01T00:00:00Z. */
export const TASK_SEED: readonly SeedLine[] = [
  ...scriptRun('run-2023', Date.parse('2023-12-31T23:58:00.000Z'), 12, false),
  ...scriptRun('run-2024', BEFORE_MS, 125, true),
];

export const OTHER_TASK_SEED: readonly SeedLine[] = [
  ...scriptRun('run-other-old', Date.parse('2023-06-01T08:00:00.000Z'), 2, false),
  ...scriptRun('run-other-new', Date.parse('2024-05-01T08:00:00.000Z'), 3, false),
];

/** The entries the server must hold after seeding, in `seq` order. */
export function expectedEntries(taskId: string, seed: readonly SeedLine[]): LogEntry[] {
  return seed.map((line, i) => ({
    id: entryId(taskId, i + 1),
    seq: i + 1,
    taskId,
    timestamp: line.timestamp,
    source: line.source,
    level: line.level,
    message: line.message,
    lineNumber: line.lineNumber,
    metadata: line.metadata,
    runId: line.runId,
    runSeq: line.runSeq,
  }));
}

export const TASK_ENTRIES = expectedEntries(TASK, TASK_SEED);
export const OTHER_TASK_ENTRIES = expectedEntries(OTHER_TASK, OTHER_TASK_SEED);

export function isBeforeGuideDate(entry: { timestamp: string }): boolean {
  return Date.parse(entry.timestamp) < BEFORE_MS;
}

/** Posts both tasks' lines through `POST /api/v1/tasks/{taskId}/logs`, as an agent's batches would arrive. */
export async function seedGuideTasks(apiUrl: string): Promise<void> {
  for (const [taskId, seed] of [
    [TASK, TASK_SEED],
    [OTHER_TASK, OTHER_TASK_SEED],
  ] as const) {
    for (let first = 0; first < seed.length; first += 50) {
      const batch = seed.slice(first, first + 50);
      const response = await fetch(`${apiUrl}/tasks/${taskId}/logs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ entries: batch }),
      });
      const body = (await response.json()) as unknown;
      const expected = { accepted: batch.length, duplicates: 0, lastSeq: first + batch.length };
      if (response.status !== 201 || JSON.stringify(body) !== JSON.stringify(expected)) {
        throw new Error(`seeding ${taskId} answered ${response.status} ${JSON.stringify(body)}, expected ${JSON.stringify(expected)}`);
      }
    }
  }
}

/** The counts `GET …/logs/stats` must report for `entries`. */
export function statsOf(taskId: string, entries: readonly LogEntry[]) {
  const count = (keep: (e: LogEntry) => boolean) => entries.filter(keep).length;
  return {
    taskId,
    totalLogs: entries.length,
    logCounts: {
      stdout: count((e) => e.source === 'stdout'),
      stderr: count((e) => e.source === 'stderr'),
      agent: count((e) => e.source === 'agent'),
    },
    levelCounts: {
      DEBUG: count((e) => e.level === 'DEBUG'),
      INFO: count((e) => e.level === 'INFO'),
      WARN: count((e) => e.level === 'WARN'),
      ERROR: count((e) => e.level === 'ERROR'),
    },
    timeRange: { start: entries[0]?.timestamp ?? null, end: entries.at(-1)?.timestamp ?? null },
  };
}
