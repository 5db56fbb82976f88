// Opens the way to keruta-api for one connection: the WebSocket, or REST when the WebSocket cannot
// be opened and the refusal is not final (a proxy that does not pass WebSockets, an old server).
import type { AgentLog } from '../agent-log.js';
import type { AgentConfig } from '../config.js';
import { createRestTransport } from './transport-rest.js';
import { openWebSocketTransport } from './transport-ws.js';
import { isPermanent, type OpenResult, type TransportHandlers } from './transport.js';

export interface TransportContext {
  readonly taskId: string;
  readonly config: AgentConfig;
  readonly log: AgentLog;
  /** Hear what the server answers on the transport. */
  readonly handlers: TransportHandlers;
}

/** `wanted` false once the caller has moved on (it closed): what opened is then closed again and not reported. */
export function openTransport(context: TransportContext, wanted: () => boolean, onResult: (result: OpenResult) => void): void {
  const { taskId, config, log, handlers } = context;
  const { websocket, api, auth } = config;
  void openWebSocketTransport({ url: websocket.url, taskId, headers: auth.headers, timeoutMs: websocket.timeoutMs, handlers }).then((result) => {
    if (!wanted()) {
      if (result.ok) result.transport.close();
      return;
    }
    if (result.ok || isPermanent(result.failure)) return onResult(result);
    log.info(`WebSocket ${websocket.url} not available (${result.failure.code}: ${result.failure.message}); using REST ${api.url}`);
    // The REST fallback proves itself with the first batch: a failure there counts as a failed attempt.
    onResult({
      ok: true,
      transport: createRestTransport({
        apiUrl: api.url,
        taskId,
        headers: auth.headers,
        timeoutMs: api.timeoutMs,
        retryCount: api.retryCount,
        retryIntervalMs: api.retryIntervalMs,
        handlers,
      }),
    });
  });
}
