// The exactly-once state machine for one task: reads batches from the spool of each run in order,
// sends them over the WebSocket (or REST when it cannot be opened), and forgets an entry only when
// the server has acknowledged it. After any failure it reconnects with jittered backoff and resends
// everything after the last acknowledgement; the server drops what it already stored (same runId
// and runSeq), so nothing is lost and nothing is stored twice. It never blocks the caller: all of
// it runs on callbacks and timers, and a dead server only makes the spool grow.
import { backoffDelay, MAX_BATCH_ENTRIES, type AppendBatchResult } from '@keruta/protocol';
import type { AgentLog } from './agent-log.js';
import type { AgentConfig } from './config.js';
import type { RunSpool } from './spool.js';
import { isPermanent, type DeliveryFailure, type Transport, type TransportHandlers } from './transport.js';
import { createRestTransport } from './transport-rest.js';
import { openWebSocketTransport } from './transport-ws.js';

/** Batches in flight at once. A second one is sent only when the first has waited a flush interval. */
const MAX_IN_FLIGHT = 2;
/** First limit on a batch's bytes; halved when the server answers MESSAGE_TOO_LARGE. */
const INITIAL_BATCH_BYTES = 1024 * 1024;
/** Batch buffers are reused: allocating a megabyte per batch lets garbage pile up outside the heap. */
const POOL_BUFFER_BYTES = INITIAL_BATCH_BYTES + 64 * 1024;
const MIN_BATCH_BYTES = 64 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Reconnect waits double per failed attempt up to this many times the configured interval. */
const MAX_BACKOFF_FACTOR = 8;

export type DeliveryEvent = 'reconnected' | 'spooled' | 'delivered' | 'conflict';

export interface DeliveryOptions {
  readonly taskId: string;
  readonly config: AgentConfig;
  readonly log: AgentLog;
  /** The agent's own events worth recording in the task's log (execute records them; flush does not). */
  readonly onEvent?: (event: DeliveryEvent, message: string, metadata: Record<string, unknown>) => void;
  /** A run whose entries are all acknowledged and whose spool was removed. */
  readonly onRunDelivered?: (run: RunSpool) => void;
  /** The server acknowledged a batch (and the next ones were sent): room for more. */
  readonly onAcknowledged?: () => void;
}

export interface DeliveryStats {
  /** Entries the server acknowledged (stored now or before). */
  readonly acknowledged: number;
  /** Of those, entries the server already had. */
  readonly duplicates: number;
  readonly batches: number;
  readonly reconnects: number;
}

export interface FinishResult {
  /** Entries not acknowledged, still in the spool. */
  readonly kept: number;
  /** Spool directories of the runs that still hold entries. */
  readonly dirs: readonly string[];
  /** Why delivery stopped short, when it did. */
  readonly failure: DeliveryFailure | undefined;
}

export interface Delivery {
  /** Runs are delivered one after another, in the order they are added. */
  add(run: RunSpool): void;
  /** Entries were appended to a run: send them when the connection allows. */
  notify(): void;
  /** Opens the connection now, before there is anything to send, so that the first line does not wait for the handshake. */
  connect(): void;
  /** Resolves once the server has first answered (an acknowledgement) or first failed. */
  readonly firstAnswer: Promise<void>;
  /** Entries appended to the runs and not sent yet. */
  readonly unsent: number;
  /** Sends a frame that is neither spooled nor resent (a `partial`), over an idle WebSocket only; false when dropped. */
  sendEphemeral(text: string): boolean;
  /**
   * Keeps delivering until every run is sealed and acknowledged, the deadline passes, the
   * reconnect attempts run out, or `signal` aborts; then closes everything and reports what is kept.
   */
  finish(deadlineMs: number, signal?: AbortSignal): Promise<FinishResult>;
  readonly stats: DeliveryStats;
}

interface Cursor {
  readonly run: RunSpool;
  /** Next runSeq to send. */
  nextSeq: number;
}

interface InFlight {
  readonly batchId: string;
  readonly cursor: Cursor;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly count: number;
  readonly sentAt: number;
}

type State = 'idle' | 'connecting' | 'open' | 'waiting' | 'gave-up' | 'closed';

export function createDelivery(options: DeliveryOptions): Delivery {
  const { config, log, taskId } = options;
  const { logStreaming, websocket, api, auth } = config;
  const cursors: Cursor[] = [];
  const inFlight: InFlight[] = [];
  let state: State = 'idle';
  let transport: Transport | undefined;
  /** Failed connection attempts in a row. */
  let attempts = 0;
  /** Times the batch at the head was refused with a transient error. */
  let retries = 0;
  let batchBytes = INITIAL_BATCH_BYTES;
  let batchCounter = 0;
  let lastFailure: DeliveryFailure | undefined;
  let permanentFailure: DeliveryFailure | undefined;
  /** An outage is under way: the next successful connection is a reconnection. */
  let outage = false;
  let everConnected = false;
  /** The current connection has had an acknowledgement (REST proves itself only that way). */
  let isConfirmed = false;
  /** After a reconnection, the runSeq of the live run up to which entries waited out the outage. */
  let backlogUntil: { cursor: Cursor; seq: number; since: number } | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let ackTimer: NodeJS.Timeout | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let settle: (() => void) | undefined;
  let answered: () => void = () => undefined;
  const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
  const stats = { acknowledged: 0, duplicates: 0, batches: 0, reconnects: 0 };
  const pool: Buffer[] = [];
  const release = (buffer: Buffer): void => {
    if (buffer.length === POOL_BUFFER_BYTES && pool.length <= MAX_IN_FLIGHT) pool.push(buffer);
  };

  const pendingOf = (cursor: Cursor): number => cursor.run.lastSeq - cursor.nextSeq + 1;
  const inFlightEntries = (): number => inFlight.reduce((n, b) => n + b.count, 0);
  const isDone = (): boolean => cursors.length === 0 || cursors.every((c) => c.run.sealed && c.run.ackedSeq >= c.run.lastSeq);

  const clearTimer = (timer: NodeJS.Timeout | undefined): undefined => {
    if (timer !== undefined) clearTimeout(timer);
    return undefined;
  };

  const checkSettled = (): void => {
    if (settle === undefined) return;
    if (isDone() || state === 'gave-up') settle();
  };

  /** Drops the connection and everything in flight; the entries are resent from the last acknowledgement. */
  const dropConnection = (): void => {
    transport?.close();
    transport = undefined;
    inFlight.length = 0;
    ackTimer = clearTimer(ackTimer);
    flushTimer = clearTimer(flushTimer);
    for (const cursor of cursors) cursor.nextSeq = cursor.run.ackedSeq + 1;
  };

  const giveUp = (failure: DeliveryFailure, permanent: boolean): void => {
    dropConnection();
    state = 'gave-up';
    if (permanent) {
      permanentFailure = failure;
      log.warn(`keruta-api refused the lines of task ${taskId}: ${failure.code}: ${failure.message}; they stay in the spool`);
    } else {
      log.info(`giving up on keruta-api after ${attempts} failed attempts (${failure.code}: ${failure.message}); lines stay in the spool`);
    }
    checkSettled();
  };

  /** After a failure: wait (backoff, or a given delay), then connect again. */
  const scheduleReconnect = (failure: DeliveryFailure, delayMs?: number): void => {
    lastFailure = failure;
    answered();
    dropConnection();
    if (isPermanent(failure)) return giveUp(failure, true);
    if (!outage) {
      outage = true;
      const what = everConnected ? 'lost the connection to keruta-api' : 'keruta-api is unreachable';
      options.onEvent?.('spooled', `${what} (${failure.code}: ${failure.message}); keeping lines on disk until it is back`, {
        reason: failure.code,
        spoolDir: cursors.at(-1)?.run.dir,
      });
    }
    if (delayMs === undefined) {
      attempts++;
      const max = websocket.maxReconnectAttempts;
      if (max > 0 && attempts >= max) return giveUp(failure, false);
    }
    const wait = delayMs ?? backoffDelay(attempts, { baseMs: websocket.reconnectIntervalMs, maxMs: MAX_BACKOFF_FACTOR * websocket.reconnectIntervalMs });
    log.info(`${failure.code}: ${failure.message}; retrying in ${wait} ms`);
    state = 'waiting';
    retryTimer = clearTimer(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (state === 'waiting') connect();
    }, wait);
  };

  /** The first acknowledgement on a connection: the server is really back. */
  const confirmed = (kind: Transport['kind']): void => {
    answered();
    if (outage) {
      stats.reconnects++;
      const live = cursors.at(-1);
      const kept = live === undefined ? 0 : live.run.lastSeq - live.run.ackedSeq;
      if (live !== undefined && !live.run.sealed && kept > 0) {
        backlogUntil = { cursor: live, seq: live.run.lastSeq, since: live.run.ackedSeq };
      }
      options.onEvent?.('reconnected', `reconnected to keruta-api (${kind}) after ${attempts} failed attempts; ${kept} lines left to send`, {
        attempts,
        transport: kind,
        pending: kept,
      });
    }
    outage = false;
    everConnected = true;
    attempts = 0;
  };

  const handlers: TransportHandlers = {
    onAck(batchId, result: AppendBatchResult) {
      const index = inFlight.findIndex((b) => b.batchId === batchId);
      if (index === -1) return;
      // The server stores a connection's batches in order, so an ack covers everything sent before it.
      const acked = inFlight.splice(0, index + 1);
      for (const batch of acked) {
        batch.cursor.run.acknowledge(batch.lastSeq);
        stats.acknowledged += batch.count;
        stats.batches++;
      }
      stats.duplicates += result.duplicates;
      const conflicts = result.conflicts ?? 0;
      if (conflicts > 0) {
        const runId = acked.at(-1)?.cursor.run.runId;
        options.onEvent?.(
          'conflict',
          `${conflicts} lines of run ${runId ?? '?'} were not stored: keruta-api already held other lines under their runSeq (someone else wrote under this run's id)`,
          { count: conflicts, ...(runId === undefined ? {} : { runId }) },
        );
      }
      retries = 0;
      if (!isConfirmed) {
        isConfirmed = true;
        confirmed(transport?.kind ?? 'websocket');
      }
      ackTimer = clearTimer(ackTimer);
      if (inFlight.length > 0) armAckTimer();
      afterAcknowledged();
      pump();
      options.onAcknowledged?.();
    },
    onReject(batchId, failure) {
      if (!inFlight.some((b) => b.batchId === batchId)) return;
      if (failure.code === 'MESSAGE_TOO_LARGE') {
        const head = inFlight[0];
        if (batchBytes <= MIN_BATCH_BYTES && head !== undefined && head.count === 1) return scheduleReconnect({ ...failure, code: 'INVALID_LOG_FORMAT' });
        batchBytes = Math.max(MIN_BATCH_BYTES, Math.floor(batchBytes / 2));
        return scheduleReconnect(failure, 0);
      }
      if (isPermanent(failure)) return scheduleReconnect(failure);
      retries++;
      if (retries <= logStreaming.maxRetries) return scheduleReconnect(failure, failure.retryAfterMs ?? logStreaming.retryIntervalMs);
      retries = 0;
      scheduleReconnect(failure);
    },
    onLost(failure) {
      scheduleReconnect(failure);
    },
  };

  const armAckTimer = (): void => {
    if (ackTimer !== undefined || inFlight.length === 0 || transport?.kind !== 'websocket') return;
    const head = inFlight[0] as InFlight;
    const remaining = Math.max(0, head.sentAt + websocket.timeoutMs - Date.now());
    ackTimer = setTimeout(() => {
      ackTimer = undefined;
      scheduleReconnect({ code: 'TIMEOUT', message: `no acknowledgement within ${websocket.timeoutMs} ms` });
    }, remaining);
  };

  /** Closes runs that are complete (but the last, which finish closes) and reports a drained outage backlog. */
  const afterAcknowledged = (): void => {
    while (cursors.length > 1) {
      const head = cursors[0] as Cursor;
      if (!(head.run.sealed && head.run.ackedSeq >= head.run.lastSeq)) break;
      cursors.shift();
      head.run.close();
      options.onRunDelivered?.(head.run);
    }
    if (backlogUntil !== undefined && backlogUntil.cursor.run.ackedSeq >= backlogUntil.seq) {
      const { seq, since } = backlogUntil;
      backlogUntil = undefined;
      options.onEvent?.('delivered', `delivered the ${seq - since} lines kept while keruta-api was unreachable`, { count: seq - since });
    }
    checkSettled();
  };

  const nextBatch = (): { cursor: Cursor; entries: number } | undefined => {
    for (const cursor of cursors) {
      const pending = pendingOf(cursor);
      if (pending <= 0) {
        if (cursor.run.sealed) continue;
        return undefined;
      }
      const room = logStreaming.bufferSize - inFlightEntries();
      if (room <= 0) return undefined;
      // Live lines go in batches of batchSize; a backlog in batches as big as the buffer allows.
      const limit = pending <= logStreaming.batchSize ? logStreaming.batchSize : Math.min(MAX_BATCH_ENTRIES, Math.max(logStreaming.batchSize, room));
      return { cursor, entries: Math.min(pending, limit, room) };
    }
    return undefined;
  };

  const pump = (): void => {
    if (state === 'idle' && cursors.some((c) => pendingOf(c) > 0)) return connect();
    if (state !== 'open' || transport === undefined) return;
    for (;;) {
      if (inFlight.length >= MAX_IN_FLIGHT) break;
      const head = inFlight[0];
      if (head !== undefined) {
        // Pipelining only over the WebSocket (it keeps order) and only once a line has waited a flush interval.
        if (transport.kind !== 'websocket') break;
        const waited = Date.now() - head.sentAt;
        if (waited < logStreaming.flushIntervalMs) {
          if (flushTimer === undefined && nextBatch() !== undefined) {
            flushTimer = setTimeout(() => {
              flushTimer = undefined;
              pump();
            }, logStreaming.flushIntervalMs - waited);
          }
          break;
        }
      }
      const next = nextBatch();
      if (next === undefined) break;
      const batchId = `${next.cursor.run.runId}:${++batchCounter}`;
      const reuse = pool.pop() ?? Buffer.allocUnsafeSlow(POOL_BUFFER_BYTES);
      const batch = next.cursor.run.read(next.cursor.nextSeq, next.entries, batchBytes, transport.frame(batchId), reuse);
      if (batch === undefined) {
        release(reuse);
        break;
      }
      if (batch.buffer !== reuse) release(reuse);
      inFlight.push({ batchId, cursor: next.cursor, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, count: batch.count, sentAt: Date.now() });
      next.cursor.nextSeq = batch.lastSeq + 1;
      transport.send(batchId, batch.body, () => release(batch.buffer));
      armAckTimer();
    }
  };

  const connected = (opened: Transport): void => {
    transport = opened;
    state = 'open';
    isConfirmed = false;
    log.info(`connected to keruta-api over ${opened.kind === 'websocket' ? websocket.url : api.url} for task ${taskId}`);
    pump();
  };

  const connect = (): void => {
    state = 'connecting';
    void openWebSocketTransport({ url: websocket.url, taskId, headers: auth.headers, timeoutMs: websocket.timeoutMs, handlers }).then(
      (result) => {
        if (state !== 'connecting') {
          if (result.ok) result.transport.close();
          return;
        }
        if (result.ok) return connected(result.transport);
        if (isPermanent(result.failure)) return scheduleReconnect(result.failure);
        log.info(`WebSocket ${websocket.url} not available (${result.failure.code}: ${result.failure.message}); using REST ${api.url}`);
        // The REST fallback proves itself with the first batch: a failure there counts as a failed attempt.
        connected(
          createRestTransport({
            apiUrl: api.url,
            taskId,
            headers: auth.headers,
            timeoutMs: api.timeoutMs,
            retryCount: api.retryCount,
            retryIntervalMs: api.retryIntervalMs,
            handlers,
          }),
        );
      },
    );
  };

  return {
    add(run) {
      cursors.push({ run, nextSeq: run.ackedSeq + 1 });
      pump();
    },
    notify() {
      if (state === 'open' || state === 'idle') pump();
    },
    connect() {
      if (state === 'idle') connect();
    },
    firstAnswer,
    get unsent() {
      return cursors.reduce((n, c) => n + Math.max(0, pendingOf(c)), 0);
    },
    sendEphemeral(text) {
      return state === 'open' && transport?.sendEphemeral !== undefined && transport.sendEphemeral(text);
    },
    finish(deadlineMs, signal) {
      if (state === 'gave-up' && permanentFailure === undefined) {
        // The attempts ran out during the run; the wait at exit is worth one more round.
        attempts = 0;
        state = 'idle';
      } else if (state === 'waiting') {
        // The script has ended: try now rather than at the end of a long backoff.
        retryTimer = clearTimer(retryTimer);
        state = 'idle';
      }
      afterAcknowledged();
      pump();
      return new Promise<FinishResult>((resolve) => {
        const done = (): void => {
          settle = undefined;
          clearTimeout(deadline);
          signal?.removeEventListener('abort', done);
          retryTimer = clearTimer(retryTimer);
          dropConnection();
          state = 'closed';
          let kept = 0;
          const dirs: string[] = [];
          for (const cursor of cursors) {
            const left = cursor.run.close();
            if (left > 0) {
              kept += left;
              dirs.push(cursor.run.dir);
            } else {
              options.onRunDelivered?.(cursor.run);
            }
          }
          cursors.length = 0;
          resolve({ kept, dirs, failure: kept > 0 ? (permanentFailure ?? lastFailure) : undefined });
        };
        const delay = deadlineMs - Date.now();
        // Beyond setTimeout's range (flush waits "for ever"): no deadline at all.
        const deadline = delay < MAX_TIMER_MS ? setTimeout(done, Math.max(0, delay)) : undefined;
        signal?.addEventListener('abort', done, { once: true });
        settle = done;
        checkSettled();
      });
    },
    get stats() {
      return { ...stats };
    },
  };
}
