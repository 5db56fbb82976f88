// A small WebSocket test client that records every frame it receives, in order.
import WebSocket from 'ws';
import type { LogEntry, ServerMessage } from '@keruta/protocol';

export interface RecordingClient extends AsyncDisposable {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[];
  /** Every entry received, from `log` and `logs` frames, in arrival order. */
  readonly entries: LogEntry[];
  send(message: unknown): void;
  /** Resolves with the first message (already received or later) for which `predicate` holds. */
  waitFor<T extends ServerMessage = ServerMessage>(predicate: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves once `count` entries have arrived. */
  waitForEntries(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function connectClient(url: string, options: { headers?: Record<string, string> } = {}): Promise<RecordingClient> {
  const ws = new WebSocket(url, { headers: options.headers ?? {} });
  const messages: ServerMessage[] = [];
  const entries: LogEntry[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as ServerMessage;
    messages.push(message);
    if (message.type === 'log') {
      const { type: _type, ...entry } = message;
      entries.push(entry);
    } else if (message.type === 'logs') {
      entries.push(...message.entries);
    }
    for (const wake of waiters) wake();
  });
  ws.on('close', () => {
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

  const until = (done: () => boolean, timeoutMs: number, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (done()) {
        resolve();
        return;
      }
      if (ws.readyState === WebSocket.CLOSED) {
        reject(new Error(`connection closed before waiting for ${what}`));
        return;
      }
      const check = () => {
        if (done()) {
          cleanup();
          resolve();
        } else if (ws.readyState === WebSocket.CLOSED) {
          cleanup();
          reject(new Error(`connection closed while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
    });

  const close = async () => {
    if (ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000).unref();
    });
  };
  return {
    ws,
    messages,
    entries,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    async waitFor<T extends ServerMessage>(predicate: (m: ServerMessage) => boolean, timeoutMs = 10_000) {
      let found: ServerMessage | undefined;
      await until(() => (found = messages.find(predicate)) !== undefined, timeoutMs, 'a matching message');
      return found as T;
    },
    waitForEntries: (count, timeoutMs = 20_000) =>
      until(() => entries.length >= count, timeoutMs, `${count} entries (have ${entries.length})`),
    close,
    [Symbol.asyncDispose]: close,
  };
}
