// The public entry of keruta-client, for browsers and Node: LogStreamingClient, the REST client,
// their error type and the URL helpers. Nothing here imports a Node-only module.
export {
  LogStreamingClient,
  LOG_STREAMING_DEFAULTS,
  type ConnectionState,
  type ConnectionStateChange,
  type LogStreamingClientOptions,
  type LogStreamingEventName,
  type LogStreamingEvents,
  type ResolvedLogStreamingClientOptions,
} from './log-streaming-client.js';
export {
  createRestClient,
  type DeleteLogsOptions,
  type FetchFunction,
  type IterateLogsOptions,
  type ListTasksParams,
  type RestClient,
  type RestClientOptions,
  type SearchParams,
} from './rest-client.js';
export type { ExportOptions, GetLogsParams, LogFilter, TimeBound } from './log-query.js';
export {
  CLIENT_ERROR_CODES,
  KerutaClientError,
  isKerutaClientError,
  isRetryableClientError,
  type ClientErrorCode,
  type KerutaClientErrorOptions,
} from './client-error.js';
export {
  DEFAULT_SERVER_URL,
  apiUrlFromServer,
  defaultApiUrl,
  defaultWebSocketUrl,
  webSocketUrlFromApiUrl,
  webSocketUrlFromServer,
} from './urls.js';
export type { Listener } from './listeners.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket-like.js';
export { backoffDelay as reconnectDelay, type BackoffOptions } from '@keruta/protocol';
export { createSummaryClient, type CompareParams, type GetErrorContextParams, type GetSummaryParams, type SummaryClient } from './summary-client.js';
