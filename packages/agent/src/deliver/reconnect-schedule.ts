// After a failure, when the delivery connects again, or whether it gives up: at once or after the
// delay a refusal asks for, else after a jittered backoff that doubles per failed attempt up to 8×
// websocket.reconnectIntervalMs; never again after a final refusal or after
// websocket.maxReconnectAttempts failed attempts in a row (0: no limit).
import { backoffDelay } from '@keruta/protocol';
import type { AgentLog } from '../agent-log.js';
import type { AgentConfig } from '../config.js';
import { createTimer } from './timer.js';
import { isPermanent, type DeliveryFailure } from './transport.js';

/** Reconnect waits double per failed attempt up to this many times the configured interval. */
const MAX_BACKOFF_FACTOR = 8;

export interface ReconnectScheduleOptions {
  readonly taskId: string;
  readonly websocket: AgentConfig['websocket'];
  readonly log: AgentLog;
  /** The wait is over. */
  readonly reconnect: () => void;
}

export interface ReconnectSchedule {
  /** Failed connection attempts in a row. */
  readonly attempts: number;
  /** The server's final refusal, once there was one. */
  readonly refusal: DeliveryFailure | undefined;
  /**
   * After `failure`: 'waiting' when a reconnection is set to come (after `delayMs`; without it after
   * the backoff, and the attempt counts), 'gave-up' when there is none.
   */
  after(failure: DeliveryFailure, delayMs?: number): 'waiting' | 'gave-up';
  /** The server is back, or the wait at exit is worth another round: attempts count from 0 again. */
  reset(): void;
  /** No reconnection is to come from the wait under way. */
  cancel(): void;
}

export function createReconnectSchedule(options: ReconnectScheduleOptions): ReconnectSchedule {
  const { websocket, log, taskId } = options;
  const wait = createTimer();
  let attempts = 0;
  let refusal: DeliveryFailure | undefined;

  return {
    get attempts() {
      return attempts;
    },
    get refusal() {
      return refusal;
    },
    after(failure, delayMs) {
      if (isPermanent(failure)) {
        refusal = failure;
        log.warn(`keruta-api refused the lines of task ${taskId}: ${failure.code}: ${failure.message}; they stay in the spool`);
        return 'gave-up';
      }
      if (delayMs === undefined) {
        attempts++;
        const max = websocket.maxReconnectAttempts;
        if (max > 0 && attempts >= max) {
          log.info(`giving up on keruta-api after ${attempts} failed attempts (${failure.code}: ${failure.message}); lines stay in the spool`);
          return 'gave-up';
        }
      }
      const waitMs = delayMs ?? backoffDelay(attempts, { baseMs: websocket.reconnectIntervalMs, maxMs: MAX_BACKOFF_FACTOR * websocket.reconnectIntervalMs });
      log.info(`${failure.code}: ${failure.message}; retrying in ${waitMs} ms`);
      wait.start(waitMs, options.reconnect);
      return 'waiting';
    },
    reset() {
      attempts = 0;
    },
    cancel() {
      wait.stop();
    },
  };
}
