// The agent's WebSocket to `${websocket.url}/${taskId}`: sends `logs` batches, hears `ack` and
// `error` answers (PROTOCOL.md §4). Server pings need no answer; they only show the line is alive.
import { createRequire } from 'node:module';
import { createValidator, readErrorBody, ServerMessageSchemas } from '@keruta/protocol';
import { describeError, type OpenResult, type TransportHandlers } from './transport.js';

export interface WebSocketTransportOptions {
  readonly url: string;
  readonly taskId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly handlers: TransportHandlers;
}

const isAck = createValidator(ServerMessageSchemas.ack);
const isError = createValidator(ServerMessageSchemas.error);
const FRAME_END = Buffer.from(']}');

/** Server frames to the agent are small acks and errors; anything this big is not one. */
const MAX_INCOMING_BYTES = 1024 * 1024;

const STATUS_CODES: Readonly<Record<number, string>> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  400: 'INVALID_TASK_ID',
  429: 'RATE_LIMIT_EXCEEDED',
};

export function openWebSocketTransport(options: WebSocketTransportOptions): Promise<OpenResult> {
  // Loaded with require: importing ws's ESM wrapper costs ~8 MB more memory for the same code.
  const { WebSocket } = createRequire(import.meta.url)('ws') as typeof import('ws');
  const target = `${options.url}/${encodeURIComponent(options.taskId)}`;
  return new Promise<OpenResult>((resolve) => {
    /** "done" once the open failed, the connection was lost, or the agent closed it: nothing more is reported. */
    let state: 'connecting' | 'open' | 'done' = 'connecting';
    const ws = new WebSocket(target, {
      headers: { ...options.headers },
      handshakeTimeout: options.timeoutMs,
      perMessageDeflate: false,
      maxPayload: MAX_INCOMING_BYTES,
      // Masking guards browsers' proxies against cache poisoning; an all-zero mask lets ws skip the
      // XOR over every byte, which at a million lines a second is most of the cost of sending.
      generateMask: (mask) => mask.fill(0),
    });

    const fail = (code: string, message: string): void => {
      const was = state;
      state = 'done';
      if (was === 'connecting') {
        resolve({ ok: false, failure: { code, message } });
        ws.terminate();
      } else if (was === 'open') {
        options.handlers.onLost({ code, message });
      }
    };

    ws.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      fail(STATUS_CODES[status] ?? `HTTP_${status}`, `WebSocket refused with HTTP ${status}`);
    });
    ws.on('error', (error) => {
      const failure = describeError(error);
      fail(failure.code, failure.message);
    });
    ws.on('close', (code, reason) => {
      const text = reason.toString();
      fail(text !== '' && /^[A-Z_]+$/.test(text) ? text : 'CLOSED', `connection closed (${code}${text === '' ? '' : ` ${text}`})`);
    });
    ws.on('message', (data) => {
      if (state !== 'open') return;
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        // Not JSON: nothing an agent can act on; the batch it may have been about times out and is resent.
        return;
      }
      if (isAck.check(message)) {
        options.handlers.onAck(message.batchId, message);
      } else if (isError.check(message)) {
        const body = readErrorBody(message) ?? { code: message.code, message: message.message };
        if (message.batchId !== undefined && message.batchId !== '') options.handlers.onReject(message.batchId, body);
        else if (body.code === 'UNAUTHORIZED' || body.code === 'FORBIDDEN') fail(body.code, body.message);
      }
      // ping, pong and anything else: the connection is alive, nothing to do.
    });
    ws.on('open', () => {
      if (state !== 'connecting') return;
      state = 'open';
      resolve({
        ok: true,
        transport: {
          kind: 'websocket',
          frame(batchId) {
            return { head: Buffer.from(`{"type":"logs","batchId":${JSON.stringify(batchId)},"entries":[`), tail: FRAME_END };
          },
          send(_batchId, body, release) {
            ws.send(body, { binary: false }, (error) => {
              // Written to the socket (or failed): the buffer may be reused.
              release();
              if (error !== undefined && error !== null) fail('NETWORK', error.message);
            });
          },
          sendEphemeral(text) {
            // Anything still queued on the socket: this frame would only wait behind it, and be stale.
            if (state !== 'open' || ws.bufferedAmount > 0) return false;
            ws.send(text, { binary: false });
            return true;
          },
          close() {
            state = 'done';
            ws.close(1000);
            // A server that does not answer the close handshake must not keep the agent alive.
            setTimeout(() => ws.terminate(), 1000).unref();
          },
        },
      });
    });
  });
}
