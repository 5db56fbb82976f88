// The fallback when the WebSocket cannot be opened: `POST ${api.url}/tasks/${taskId}/logs` with
// `{"entries":[…]}`, one request at a time. Network failures and 5xx answers without a protocol
// code are repeated `api.retryCount` times before the server counts as unreachable.
import { setTimeout as sleep } from 'node:timers/promises';
import { AppendBatchResultSchema, createValidator, parseRetryAfter, readErrorBody } from '@keruta/protocol';
import { describeError, type DeliveryFailure, type Transport, type TransportHandlers } from './transport.js';

export interface RestTransportOptions {
  readonly apiUrl: string;
  readonly taskId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly retryCount: number;
  readonly retryIntervalMs: number;
  readonly handlers: TransportHandlers;
}

const isBatchResult = createValidator(AppendBatchResultSchema);
const BODY_START = Buffer.from('{"entries":[');
const BODY_END = Buffer.from(']}');

type Outcome = { kind: 'ack'; result: { accepted: number; duplicates: number; lastSeq: number } } | { kind: 'reject' | 'retry'; failure: DeliveryFailure };

export function createRestTransport(options: RestTransportOptions): Transport {
  const target = `${options.apiUrl}/tasks/${encodeURIComponent(options.taskId)}/logs`;
  let closed = false;

  const post = async (body: Buffer): Promise<Outcome> => {
    let response: Response;
    try {
      response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      return { kind: 'retry', failure: describeError(error) };
    }
    let payload: unknown;
    try {
      payload = await response.json();
    } catch {
      // A body that is not JSON (a proxy's error page): judged by the status alone below.
      payload = undefined;
    }
    if (response.ok) {
      if (isBatchResult.check(payload)) return { kind: 'ack', result: payload };
      return { kind: 'retry', failure: { code: `HTTP_${response.status}`, message: 'answer is not a batch result' } };
    }
    const error = readErrorBody(payload);
    // Absent (as on DATABASE_ERROR): undefined, so that the retry interval applies, not a 0 ms wait.
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    const failure: DeliveryFailure = {
      code: error?.code ?? `HTTP_${response.status}`,
      message: error?.message ?? `HTTP ${response.status}`,
      ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter * 1000 }),
    };
    if (response.status >= 500 && error === undefined) return { kind: 'retry', failure };
    return { kind: 'reject', failure };
  };

  const deliver = async (batchId: string, body: Buffer): Promise<void> => {
    let last: DeliveryFailure = { code: 'NETWORK', message: 'not sent' };
    for (let attempt = 0; attempt <= options.retryCount && !closed; attempt++) {
      if (attempt > 0) await sleep(options.retryIntervalMs);
      if (closed) return;
      const outcome = await post(body);
      if (closed) return;
      if (outcome.kind === 'ack') return options.handlers.onAck(batchId, outcome.result);
      if (outcome.kind === 'reject') return options.handlers.onReject(batchId, outcome.failure);
      last = outcome.failure;
    }
    if (!closed) options.handlers.onLost(last);
  };

  return {
    kind: 'rest',
    frame() {
      return { head: BODY_START, tail: BODY_END };
    },
    send(batchId, body, release) {
      void deliver(batchId, body).finally(release);
    },
    close() {
      closed = true;
    },
  };
}
