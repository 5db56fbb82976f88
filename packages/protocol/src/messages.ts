// The WebSocket messages of PROTOCOL.md §4, one schema each, both directions.
import { Type, type Static } from '@sinclair/typebox';
import { LogEntrySchema, LogLevelSchema, LogRequestSchema, LogSourceSchema, MAX_RUN_ID_LENGTH, MAX_SAFE_COUNTER } from './log-entry.js';
import { TASK_STATUSES } from './rest.js';

/** Most entries one `logs` message or POST may carry. */
export const MAX_BATCH_ENTRIES = 10_000;
/** Most entries a `tail` may ask for. */
export const MAX_TAIL = 100_000;

export const SubscribeOptionsSchema = Type.Object({
  sources: Type.Optional(Type.Array(LogSourceSchema, { maxItems: 3 })),
  levels: Type.Optional(Type.Array(LogLevelSchema, { maxItems: 4 })),
  realtime: Type.Optional(Type.Boolean()),
  since: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SAFE_COUNTER })),
  tail: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TAIL })),
  batch: Type.Optional(Type.Boolean()),
  /** Also send `partial` messages: the line the script is still writing (docs/live-partial-lines.md). */
  partial: Type.Optional(Type.Boolean()),
});
export type SubscribeOptions = Static<typeof SubscribeOptionsSchema>;

const OptionalTaskId = Type.Optional(Type.String());

/**
 * The line a task's script is writing and has not ended with a newline yet, as a terminal shows
 * it now ("\r" applied, masked, cut to the longest line). Never stored: it only tells watchers
 * what is on the screen until the line itself (the same run, source and lineNumber) is stored.
 */
const PartialLineFields = {
  source: Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]),
  runId: Type.String({ minLength: 1, maxLength: MAX_RUN_ID_LENGTH }),
  /** The lineNumber the line will have once it is complete and stored. */
  lineNumber: Type.Integer({ minimum: 1 }),
  text: Type.String(),
  timestamp: Type.String(),
};

export const ClientMessageSchemas = {
  subscribe: Type.Object({
    type: Type.Literal('subscribe'),
    taskId: OptionalTaskId,
    options: Type.Optional(SubscribeOptionsSchema),
  }),
  unsubscribe: Type.Object({ type: Type.Literal('unsubscribe'), taskId: OptionalTaskId }),
  ping: Type.Object({ type: Type.Literal('ping') }),
  auth: Type.Object({ type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 16384 }) }),
  log: Type.Intersect([Type.Object({ type: Type.Literal('log'), taskId: OptionalTaskId }), LogRequestSchema]),
  logs: Type.Object({
    type: Type.Literal('logs'),
    taskId: OptionalTaskId,
    batchId: Type.String({ minLength: 1, maxLength: 128 }),
    entries: Type.Array(Type.Unknown(), { maxItems: MAX_BATCH_ENTRIES }),
  }),
  /** agent → server, over its WebSocket only; needs `logs:write` like a log entry. */
  partial: Type.Object({ type: Type.Literal('partial'), taskId: OptionalTaskId, ...PartialLineFields }),
} as const;

export type SubscribeMessage = Static<typeof ClientMessageSchemas.subscribe>;
export type UnsubscribeMessage = Static<typeof ClientMessageSchemas.unsubscribe>;
export type ClientPingMessage = Static<typeof ClientMessageSchemas.ping>;
export type AuthMessage = Static<typeof ClientMessageSchemas.auth>;
export type AgentLogMessage = Static<typeof ClientMessageSchemas.log>;
/** `entries` are validated one by one (as LogRequest) so that the error names the entry. */
export type AgentLogsMessage = Static<typeof ClientMessageSchemas.logs>;
export type AgentPartialMessage = Static<typeof ClientMessageSchemas.partial>;
export type ClientMessage =
  | SubscribeMessage
  | UnsubscribeMessage
  | ClientPingMessage
  | AuthMessage
  | AgentLogMessage
  | AgentLogsMessage
  | AgentPartialMessage;
export type ClientMessageType = keyof typeof ClientMessageSchemas;

export const ServerMessageSchemas = {
  subscribed: Type.Object({
    type: Type.Literal('subscribed'),
    taskId: Type.String(),
    timestamp: Type.String(),
    lastSeq: Type.Integer(),
  }),
  unsubscribed: Type.Object({ type: Type.Literal('unsubscribed'), taskId: Type.String(), timestamp: Type.String() }),
  log: Type.Intersect([Type.Object({ type: Type.Literal('log') }), LogEntrySchema]),
  logs: Type.Object({ type: Type.Literal('logs'), taskId: Type.String(), entries: Type.Array(LogEntrySchema) }),
  ping: Type.Object({ type: Type.Literal('ping'), timestamp: Type.String() }),
  pong: Type.Object({ type: Type.Literal('pong'), timestamp: Type.String() }),
  ack: Type.Object({
    type: Type.Literal('ack'),
    batchId: Type.String(),
    accepted: Type.Integer(),
    duplicates: Type.Integer(),
    lastSeq: Type.Integer(),
    /** Entries whose (runId, runSeq) the task held with other text: not stored; only sent when > 0. */
    conflicts: Type.Optional(Type.Integer()),
  }),
  error: Type.Object({
    type: Type.Literal('error'),
    code: Type.String(),
    message: Type.String(),
    timestamp: Type.String(),
    /** The batch the error is about, when it is about one. */
    batchId: Type.Optional(Type.String()),
  }),
  task: Type.Object({
    type: Type.Literal('task'),
    taskId: Type.String(),
    status: Type.Union(TASK_STATUSES.map((s) => Type.Literal(s))),
    exitCode: Type.Optional(Type.Integer()),
    /** The task's last seq when the status changed: a watcher has everything once it has this seq. */
    lastSeq: Type.Optional(Type.Integer()),
  }),
  /** server → a subscriber that asked for `options.partial`; dropped when its socket is busy. */
  partial: Type.Object({ type: Type.Literal('partial'), taskId: Type.String(), ...PartialLineFields }),
} as const;

export type SubscribedMessage = Static<typeof ServerMessageSchemas.subscribed>;
export type UnsubscribedMessage = Static<typeof ServerMessageSchemas.unsubscribed>;
export type LogMessage = Static<typeof ServerMessageSchemas.log>;
export type LogsMessage = Static<typeof ServerMessageSchemas.logs>;
export type ServerPingMessage = Static<typeof ServerMessageSchemas.ping>;
export type PongMessage = Static<typeof ServerMessageSchemas.pong>;
export type AckMessage = Static<typeof ServerMessageSchemas.ack>;
export type ErrorMessage = Static<typeof ServerMessageSchemas.error>;
export type TaskMessage = Static<typeof ServerMessageSchemas.task>;
export type PartialMessage = Static<typeof ServerMessageSchemas.partial>;
export type ServerMessage =
  | SubscribedMessage
  | UnsubscribedMessage
  | LogMessage
  | LogsMessage
  | ServerPingMessage
  | PongMessage
  | AckMessage
  | ErrorMessage
  | TaskMessage
  | PartialMessage;
