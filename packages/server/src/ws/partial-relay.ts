// The line a script is still writing (PROTOCOL.md "partial", docs/live-partial-lines.md): taken
// from an agent's WebSocket, published on the bus (so every instance's watchers see it), and sent
// to the subscribers that asked for it with `options.partial`. Never stored, never queued: a
// subscriber whose socket holds anything unsent misses it, and the next one (or the stored line)
// takes its place.
import { KerutaError, parseTimestamp, type AgentPartialMessage, type PartialMessage } from '@keruta/protocol';
import { authorize, type Principal } from '../auth/principal.js';
import type { LogBus } from '../bus/log-bus.js';
import type { Outbox } from './outbox.js';

export interface PartialRelay {
  /** An agent's `partial`: checked like a log entry (`logs:write` on the task) and published. */
  publish(who: Principal, taskId: string, message: AgentPartialMessage): void;
}

export function createPartialRelay({ bus, maxMessageLength }: { bus: LogBus; maxMessageLength: number }): PartialRelay {
  return {
    publish(who, taskId, message) {
      authorize(who, 'logs:write', taskId);
      let timeMs: number;
      try {
        timeMs = parseTimestamp(message.timestamp, 'timestamp');
      } catch (error) {
        throw new KerutaError('INVALID_MESSAGE_FORMAT', (error as Error).message);
      }
      const partial: PartialMessage = {
        type: 'partial',
        taskId,
        source: message.source,
        runId: message.runId,
        lineNumber: message.lineNumber,
        // Cut as a stored line is (parseLogRequest); the agent has cut it already.
        text: message.text.length > maxMessageLength ? message.text.slice(0, maxMessageLength) : message.text,
        timestamp: new Date(timeMs).toISOString(),
      };
      bus.publish({ kind: 'partial', taskId, partial });
    },
  };
}

/** A partial line serialised once for all of a task's subscribers. */
export interface PartialFrame {
  readonly message: PartialMessage;
  bytes(): Buffer;
}

/** Sends a partial line to one subscriber unless its socket is still busy with earlier frames. */
export function sendPartial(outbox: Outbox, partial: PartialFrame): void {
  if (outbox.buffered > 0) return;
  outbox.send(partial.bytes());
}
