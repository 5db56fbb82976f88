// The one data model (PROTOCOL.md §1): a stored log entry and the request that creates it.
import { Type, type Static } from '@sinclair/typebox';

export const TASK_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
/** A task-id pattern (a credential's `tasks`, a search's `tasks=`): a task id's characters, and `*` for any run of them. */
export const TASK_GLOB_PATTERN = /^[A-Za-z0-9._*-]{1,128}$/;

const globCache = new Map<string, RegExp>();

/** True when `taskId` matches one of the task-id patterns (`*` any run of characters, nothing else special). */
export function matchesTaskGlob(globs: readonly string[], taskId: string): boolean {
  return globs.some((glob) => {
    let regex = globCache.get(glob);
    if (regex === undefined) {
      regex = new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`);
      if (globCache.size < 10_000) globCache.set(glob, regex);
    }
    return regex.test(taskId);
  });
}
export const MAX_RUN_ID_LENGTH = 128;
/** Longest message stored, in characters; longer ones are cut and marked `metadata.truncated`. */
export const DEFAULT_MAX_MESSAGE_LENGTH = 8192;
/** Largest metadata object, as JSON bytes. */
export const MAX_METADATA_BYTES = 4096;
/**
 * Deepest metadata, counting the object itself as 1. JSON.parse takes any depth, but every
 * recursive walk after it (stringify, the stores, the page) would overflow the stack on 10,000.
 */
export const MAX_METADATA_DEPTH = 32;
/**
 * Largest lineNumber, runSeq and seq: beyond 2^53 - 1 two numbers read from JSON can be the same
 * double (2^53 + 1 is 2^53), and PostgreSQL's bigint columns hold every safe integer.
 */
export const MAX_SAFE_COUNTER = Number.MAX_SAFE_INTEGER;

/** A count from 1 that every store keeps exactly. */
const Counter = (options: { minimum: number } = { minimum: 1 }) => Type.Integer({ ...options, maximum: MAX_SAFE_COUNTER });

export const LOG_SOURCES = ['stdout', 'stderr', 'agent'] as const;
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export const LogSourceSchema = Type.Union(LOG_SOURCES.map((s) => Type.Literal(s)));
export const LogLevelSchema = Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)));
export type LogSource = (typeof LOG_SOURCES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogSource(value: unknown): value is LogSource {
  return (LOG_SOURCES as readonly unknown[]).includes(value);
}
export function isLogLevel(value: unknown): value is LogLevel {
  return (LOG_LEVELS as readonly unknown[]).includes(value);
}
/** DEBUG < INFO < WARN < ERROR, for "this level and above" filters. */
export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

export const MetadataSchema = Type.Record(Type.String(), Type.Unknown());
export type Metadata = Static<typeof MetadataSchema>;

/** What a writer sends: the agent (with runId/runSeq), or anyone through POST. */
export const LogRequestSchema = Type.Object({
  source: LogSourceSchema,
  level: LogLevelSchema,
  message: Type.String(),
  lineNumber: Type.Optional(Counter()),
  metadata: Type.Optional(MetadataSchema),
  /** When the agent read the line; the server's clock when absent. */
  timestamp: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Unique per agent execution; with runSeq it makes a resend idempotent. */
  runId: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_RUN_ID_LENGTH })),
  runSeq: Type.Optional(Counter()),
});
export type LogRequest = Static<typeof LogRequestSchema>;

/** A stored entry, exactly as every wire and every store shows it. */
export const LogEntrySchema = Type.Object({
  id: Type.String(),
  seq: Counter(),
  taskId: Type.String(),
  timestamp: Type.String(),
  source: LogSourceSchema,
  level: LogLevelSchema,
  message: Type.String(),
  lineNumber: Counter(),
  metadata: MetadataSchema,
  runId: Type.Optional(Type.String()),
  runSeq: Type.Optional(Counter()),
});
export type LogEntry = Static<typeof LogEntrySchema>;

/** The server's id of an entry: unique because `seq` is never reused within a task. */
export function entryId(taskId: string, seq: number): string {
  return `${taskId}-${seq}`;
}

/**
 * What the agent puts in `metadata.event` of its own (`source: "agent"`) entries; the
 * server derives a task's status from them.
 */
export const AGENT_EVENTS = ['started', 'exited', 'lost', 'reconnected', 'spooled', 'delivered', 'conflict', 'filtered', 'cut'] as const;
export type AgentEvent = (typeof AGENT_EVENTS)[number];
