// The page's subscription: keruta-client's LogStreamingClient, asking for history first (the last
// lines, or everything after a seq) and then the live lines, in `logs` batches. The client resumes
// after its last seq on every reconnect, so the page never sees a gap or a line twice. It also
// asks for `partial` messages: the lines the script is still writing.
import { LogStreamingClient, type ConnectionStateChange } from 'keruta-client';
import type { ErrorMessage, LogEntry, PartialMessage, SubscribedMessage, TaskMessage } from '@keruta/protocol';
import type { StartPoint } from './page-options.js';

export interface LiveFeedOptions {
  taskId: string;
  token: string | undefined;
  start: StartPoint;
  onEntries(entries: LogEntry[]): void;
  onPartial(message: PartialMessage): void;
  onState(change: ConnectionStateChange): void;
  onSubscribed(message: SubscribedMessage): void;
  onTask(message: TaskMessage): void;
  onError(message: ErrorMessage): void;
}

export interface LiveFeed {
  readonly client: LogStreamingClient;
  stop(): Promise<void>;
}

/** A watcher keeps trying: after a restart of keruta-api it comes back and resumes. */
const RECONNECT = { reconnectInterval: 1000, maxReconnectInterval: 10_000, maxReconnectAttempts: Infinity };

export function startLiveFeed(options: LiveFeedOptions): LiveFeed {
  const client = new LogStreamingClient(options.taskId, {
    ...RECONNECT,
    ...options.start,
    ...(options.token === undefined ? {} : { token: options.token }),
    autoConnect: false,
  });
  client.on('logs', (message) => options.onEntries(message.entries));
  // Listening before connect() is what makes the client subscribe with `partial: true`.
  client.on('partial', options.onPartial);
  client.on('state', options.onState);
  client.on('subscribed', options.onSubscribed);
  client.on('task', options.onTask);
  client.on('error', options.onError);
  client.connect();
  return { client, stop: () => client.disconnect() };
}
