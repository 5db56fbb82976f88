// What an agent sends on a connection: each batch is stored after the ones before it, in the order
// they were sent, and acknowledged only once stored. Writes wait for the message rate instead of
// being refused, and a writer faster than the store waits in TCP, not in the server's memory.
import type { WebSocket } from 'ws';
import { isKerutaError } from '@keruta/protocol';
import { authorize, type Principal } from '../auth/principal.js';
import { batchAnswer, type Ingest } from '../ingest.js';
import { frame } from './frames.js';
import type { MessageRate } from './message-rate.js';
import type { Peer } from './peer.js';

export interface AgentWrites {
  /** Stores `entries` after every batch taken before and acknowledges them; refuses at once what `who` may not write. */
  write(who: Principal, taskId: string, entries: unknown[], batchId: string, field: string | undefined): void;
  /** Resolves once every batch taken is stored and acknowledged, or refused. */
  settled(): Promise<void>;
}

export interface AgentWritesOptions {
  ws: WebSocket;
  peer: Peer;
  ingest: Ingest;
  rate: MessageRate;
}

/**
 * Agent batches received but not yet stored. Beyond this the connection stops reading, so that
 * a writer faster than the store waits in TCP instead of in the server's memory.
 */
const MAX_PENDING_WRITES = 4;

/** Refusals of a batch that can never be stored: the connection goes on after them. */
const BATCH_REFUSALS: readonly string[] = ['INVALID_LOG_FORMAT', 'MESSAGE_TOO_LARGE', 'INVALID_TASK_ID'];

export function createAgentWrites({ ws, peer, ingest, rate }: AgentWritesOptions): AgentWrites {
  /** Writes run one after another so that batches are stored in the order they were sent. */
  let writes: Promise<void> = Promise.resolve();
  let pendingWrites = 0;

  const store = async (who: Principal, taskId: string, entries: unknown[], batchId: string, field: string | undefined): Promise<void> => {
    try {
      // After a failed batch nothing more is stored from this connection: a batch stored behind
      // one that failed would be out of order once the writer resends the failed one.
      if (peer.closing) return;
      await rate.throttle();
      const result = await ingest.append(taskId, entries, 'ws', field, who.subject);
      peer.outbox.send(frame({ type: 'ack', batchId, ...batchAnswer(result) }));
    } catch (error) {
      peer.report(error, batchId);
      // Any failure but a refusal of the batch itself closes the connection, and the writer
      // resends from its first unacknowledged batch.
      if (!isKerutaError(error) || !BATCH_REFUSALS.includes(error.code)) {
        peer.closeAfterReport(isKerutaError(error) ? error.code : 'DATABASE_ERROR');
      }
    } finally {
      pendingWrites -= 1;
      if (pendingWrites < MAX_PENDING_WRITES && ws.isPaused) ws.resume();
    }
  };

  return {
    write(who, taskId, entries, batchId, field) {
      try {
        authorize(who, 'logs:write', taskId);
      } catch (error) {
        peer.report(error, batchId);
        return;
      }
      pendingWrites += 1;
      if (pendingWrites >= MAX_PENDING_WRITES) ws.pause();
      writes = writes.then(() => store(who, taskId, entries, batchId, field));
    },
    async settled() {
      while (pendingWrites > 0) await writes;
    },
  };
}
