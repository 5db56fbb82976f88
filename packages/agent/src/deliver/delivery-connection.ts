// The delivery's connection to keruta-api and its states: opened by open-transport.ts (the
// WebSocket, else REST), dropped after a failure and opened again when reconnect-schedule.ts says,
// until that gives up. What goes over the connection is delivery.ts's business.
import { openTransport, type TransportContext } from './open-transport.js';
import type { OutageReport } from './outage-report.js';
import { createReconnectSchedule } from './reconnect-schedule.js';
import type { RunSpool } from './spool.js';
import type { DeliveryFailure, Transport } from './transport.js';

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting' | 'gave-up' | 'closed';

export interface ConnectionOptions extends TransportContext {
  /** Hears of failures and of the server's return. */
  readonly outage: OutageReport;
  /** The run the script appends to, for the outage report. */
  readonly live: () => RunSpool | undefined;
  /** A transport is open: what waits can be sent. */
  readonly onOpen: () => void;
  /** The connection was dropped (a failure, or the close at the end), and all that was in flight on it. */
  readonly onDrop: () => void;
  /** No more attempts: they ran out, or the server refused for good. */
  readonly onGiveUp: () => void;
}

export interface Connection {
  readonly state: ConnectionState;
  /** The open transport, while there is one. */
  readonly transport: Transport | undefined;
  /** Why delivery stopped short: the server's final refusal, else the last failure. */
  readonly failure: DeliveryFailure | undefined;
  /** Connects now, when idle. */
  connect(): void;
  /** Drops the connection and connects again after `delayMs`; without it, after the backoff (and the attempt counts). */
  fail(failure: DeliveryFailure, delayMs?: number): void;
  /** The server acknowledged a batch on this connection (the first one proves it is really back). */
  acknowledged(): void;
  /** The script has ended: stop waiting out a backoff, and make one more round if the attempts ran out. */
  hurry(): void;
  /** Drops the connection for good. */
  close(): void;
}

export function createConnection(options: ConnectionOptions): Connection {
  const { config, log, taskId, outage } = options;
  let state: ConnectionState = 'idle';
  let transport: Transport | undefined;
  /** The current connection has had an acknowledgement (REST proves itself only that way). */
  let isConfirmed = false;
  let lastFailure: DeliveryFailure | undefined;
  const schedule = createReconnectSchedule({
    taskId,
    websocket: config.websocket,
    log,
    reconnect: () => {
      if (state === 'waiting') open();
    },
  });

  const drop = (): void => {
    transport?.close();
    transport = undefined;
    options.onDrop();
  };

  const fail = (failure: DeliveryFailure, delayMs?: number): void => {
    lastFailure = failure;
    drop();
    outage.failed(failure, options.live());
    state = schedule.after(failure, delayMs);
    if (state === 'gave-up') options.onGiveUp();
  };

  const opened = (next: Transport): void => {
    transport = next;
    state = 'open';
    isConfirmed = false;
    log.info(`connected to keruta-api over ${next.kind === 'websocket' ? config.websocket.url : config.api.url} for task ${taskId}`);
    options.onOpen();
  };

  const open = (): void => {
    state = 'connecting';
    openTransport(
      options,
      () => state === 'connecting',
      (result) => (result.ok ? opened(result.transport) : fail(result.failure)),
    );
  };

  return {
    get state() {
      return state;
    },
    get transport() {
      return transport;
    },
    get failure() {
      return schedule.refusal ?? lastFailure;
    },
    connect() {
      if (state === 'idle') open();
    },
    fail,
    acknowledged() {
      if (isConfirmed) return;
      isConfirmed = true;
      outage.confirmed(transport?.kind ?? 'websocket', schedule.attempts, options.live());
      schedule.reset();
    },
    hurry() {
      if (state === 'gave-up' && schedule.refusal === undefined) {
        // The attempts ran out during the run; the wait at exit is worth one more round.
        schedule.reset();
        state = 'idle';
      } else if (state === 'waiting') {
        // The script has ended: try now rather than at the end of a long backoff.
        schedule.cancel();
        state = 'idle';
      }
    },
    close() {
      schedule.cancel();
      drop();
      state = 'closed';
    },
  };
}
