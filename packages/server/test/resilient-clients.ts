// The two kinds of client the scale-out tests drive, behaving as keruta-agent and keruta-client
// do: a writer that keeps each batch until it is acknowledged and sends it again after an error
// or a reconnect (to the next instance when one dies), and a subscriber that reconnects and
// resumes with `since` whenever its connection closes. Both record what they saw.
import WebSocket from 'ws';

interface Line {
  source: 'stdout';
  level: 'INFO';
  message: string;
  runId: string;
  runSeq: number;
}

export interface WriterOptions {
  /** ws://host:port/ws/tasks of each instance; after a close the writer moves to the next one. */
  urls: readonly string[];
  taskId: string;
  runId: string;
  total: number;
  batchSize?: number;
  inFlight?: number;
}

export interface Writer {
  /** Resolves once every line is acknowledged. */
  readonly done: Promise<void>;
  readonly acked: number;
  /** Batches sent more than once (after an error or a reconnect). */
  readonly resent: number;
  readonly reconnects: number;
  stop(): void;
}

const RETRY_DELAY_MS = 100;

export function startWriter({ urls, taskId, runId, total, batchSize = 500, inFlight = 4 }: WriterOptions): Writer {
  const unacked = new Map<string, Line[]>();
  const inFlightIds = new Set<string>();
  let retry: string[] = [];
  let nextRunSeq = 1;
  let acked = 0;
  let resent = 0;
  let reconnects = 0;
  let urlIndex = 0;
  let stopped = false;
  let ws: WebSocket | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  const send = (socket: WebSocket, batchId: string, entries: Line[]): void => {
    inFlightIds.add(batchId);
    socket.send(JSON.stringify({ type: 'logs', batchId, entries }));
  };

  const sendMore = (socket: WebSocket): void => {
    while (!stopped && socket.readyState === WebSocket.OPEN && inFlightIds.size < inFlight) {
      const again = retry.shift();
      if (again !== undefined) {
        const entries = unacked.get(again);
        if (entries === undefined || inFlightIds.has(again)) continue;
        resent += 1;
        send(socket, again, entries);
        continue;
      }
      if (nextRunSeq > total) return;
      const count = Math.min(batchSize, total - nextRunSeq + 1);
      const entries = Array.from({ length: count }, (_, i): Line => {
        const runSeq = nextRunSeq + i;
        return { source: 'stdout', level: 'INFO', message: `${runId} line ${runSeq}`, runId, runSeq };
      });
      const batchId = `${runId}:${nextRunSeq}`;
      nextRunSeq += count;
      unacked.set(batchId, entries);
      send(socket, batchId, entries);
    }
  };

  const connect = (): void => {
    if (stopped) return;
    const socket = new WebSocket(`${urls[urlIndex % urls.length]}/${taskId}`);
    ws = socket;
    socket.on('open', () => {
      // Everything unacknowledged goes again, oldest first: the server stores each line once.
      inFlightIds.clear();
      retry = [...unacked.keys()];
      sendMore(socket);
    });
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string; batchId?: string; accepted?: number; duplicates?: number };
      if (message.type === 'ack' && message.batchId !== undefined) {
        inFlightIds.delete(message.batchId);
        if (unacked.delete(message.batchId)) acked += (message.accepted ?? 0) + (message.duplicates ?? 0);
        if (acked >= total && unacked.size === 0) {
          resolveDone();
          socket.close();
          return;
        }
        sendMore(socket);
      } else if (message.type === 'error' && message.batchId !== undefined) {
        // Refused (DATABASE_ERROR while the store is away): keep it and try again shortly.
        const batchId = message.batchId;
        setTimeout(() => {
          inFlightIds.delete(batchId);
          retry.push(batchId);
          sendMore(socket);
        }, RETRY_DELAY_MS);
      }
    });
    socket.on('error', () => {
      // A refused or broken connection also emits 'close', where the writer reconnects.
    });
    socket.on('close', () => {
      if (stopped || (acked >= total && unacked.size === 0)) return;
      reconnects += 1;
      urlIndex += 1;
      setTimeout(connect, RETRY_DELAY_MS);
    });
  };
  connect();

  return {
    done,
    get acked() {
      return acked;
    },
    get resent() {
      return resent;
    },
    get reconnects() {
      return reconnects;
    },
    stop() {
      stopped = true;
      ws?.terminate();
    },
  };
}

export interface SubscriberOptions {
  url: string;
  taskId: string;
  since?: number;
  tail?: number;
}

export interface Subscriber {
  /** The first seq this subscriber must receive, known once the first `subscribed` arrived. */
  readonly first: number | undefined;
  readonly seqs: readonly number[];
  readonly reconnects: number;
  /** Resolves once an entry with seq >= `seq` has arrived. */
  waitFor(seq: number, timeoutMs?: number): Promise<void>;
  /** Lost and duplicate counts against first..last, and whether everything came in seq order. */
  tally(last: number): { lost: number; duplicates: number; inOrder: boolean };
  close(): void;
}

export async function startSubscriber({ url, taskId, since, tail }: SubscriberOptions): Promise<Subscriber> {
  const seqs: number[] = [];
  let first: number | undefined;
  let reconnects = 0;
  let closed = false;
  let ws: WebSocket | undefined;
  const waiters = new Set<() => void>();
  let resolveSubscribed!: () => void;
  const subscribed = new Promise<void>((resolve) => (resolveSubscribed = resolve));

  const options = (): Record<string, unknown> => {
    const last = seqs[seqs.length - 1];
    if (last !== undefined) return { since: last, batch: true };
    if (first !== undefined) return { since: first - 1, batch: true };
    return { batch: true, ...(since === undefined ? {} : { since }), ...(tail === undefined ? {} : { tail }) };
  };

  const connect = (): void => {
    if (closed) return;
    const socket = new WebSocket(`${url}/${taskId}`);
    ws = socket;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', options: options() })));
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string; lastSeq?: number; entries?: { seq: number }[]; seq?: number };
      if (message.type === 'subscribed') {
        if (first === undefined) {
          const lastSeq = message.lastSeq ?? 0;
          first = since !== undefined ? since + 1 : tail !== undefined ? Math.max(1, lastSeq - tail + 1) : lastSeq + 1;
        }
        resolveSubscribed();
        return;
      }
      if (message.type === 'logs') for (const entry of message.entries ?? []) seqs.push(entry.seq);
      else if (message.type === 'log' && message.seq !== undefined) seqs.push(message.seq);
      else return;
      for (const wake of waiters) wake();
    });
    socket.on('error', () => {
      // Followed by 'close', where the subscriber reconnects.
    });
    socket.on('close', () => {
      if (closed) return;
      reconnects += 1;
      setTimeout(connect, 100);
    });
  };
  connect();
  await subscribed;

  return {
    get first() {
      return first;
    },
    seqs,
    get reconnects() {
      return reconnects;
    },
    waitFor(seq, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if ((seqs[seqs.length - 1] ?? 0) >= seq) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`subscriber on ${url} (from ${first}) reached seq ${seqs[seqs.length - 1] ?? 0} of ${seq}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    tally(last) {
      const unique = new Set(seqs);
      let lost = 0;
      for (let seq = first ?? 1; seq <= last; seq++) if (!unique.has(seq)) lost += 1;
      const inOrder = seqs.every((seq, i) => i === 0 || seq === (seqs[i - 1] ?? 0) + 1) && (seqs[0] === undefined || seqs[0] === first);
      return { lost, duplicates: seqs.length - unique.size, inOrder };
    },
    close() {
      closed = true;
      ws?.terminate();
    },
  };
}
