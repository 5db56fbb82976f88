// The subscriber the scale-out tests drive, behaving as keruta-client does: it reconnects and
// resumes with `since` whenever its connection closes, and records what it saw. (Their writer,
// which resends what was not acknowledged, is @keruta/testing/base's startWriter over WebSocket.)
import WebSocket from 'ws';

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
