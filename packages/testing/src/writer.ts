// A writer of numbered lines (`line 1`, `line 2` …) to one task, as an agent or a CI script writes,
// until it has written `total` or is stopped: over REST (each batch POSTed, again through a server
// restart) or over WebSocket (batches kept until acknowledged and sent again after an error or a
// reconnect, to the next instance when one closes). Every line carries runId and runSeq, so a line
// sent twice is stored once.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

interface WriterCommonOptions {
  taskId: string;
  /** Lines to write; without it the writer goes on until `stop()`. */
  total?: number;
  /** Lines a batch (default 20). */
  batchSize?: number;
  /** The run the lines belong to (default a random one). */
  runId?: string;
}

export interface RestWriterOptions extends WriterCommonOptions {
  /** keruta-api's REST base (`…/api/v1`): each batch is POSTed to /tasks/{taskId}/logs. */
  apiUrl: string;
  /** Pause after each stored batch (default 5 ms). */
  pauseMs?: number;
}

export interface WebSocketWriterOptions extends WriterCommonOptions {
  /** ws://host:port/ws/tasks of each instance; after a close the writer moves to the next one. */
  wsUrls: readonly string[];
  /** Batches sent and not yet acknowledged at most (default 4). */
  inFlight?: number;
}

export type WriterOptions = RestWriterOptions | WebSocketWriterOptions;

export interface Writer {
  /** Lines the server has acknowledged. */
  readonly written: number;
  /** Resolves with `written` once the writer has stopped: `total` lines acknowledged, or `stop()`. */
  readonly done: Promise<number>;
  /** Batches sent more than once (after an error or a reconnect). */
  readonly resent: number;
  /** Connections opened again after one closed (WebSocket). */
  readonly reconnects: number;
  /** Stops (over REST after the batch in flight); resolves as `done` does. */
  stop(): Promise<number>;
}

interface Line {
  source: 'stdout';
  level: 'INFO';
  message: string;
  runId: string;
  runSeq: number;
}

/** What the two transports share: the lines, the counts and the end. */
interface Progress {
  readonly total: number;
  readonly batchSize: number;
  /** The next `count` lines (fewer at the end), from the next runSeq on; empty once `total` are made. */
  nextBatch(): Line[];
  written: number;
  resent: number;
  reconnects: number;
  stopped: boolean;
}

/** Pause before a refused batch, or a lost connection, is tried again. */
const RETRY_DELAY_MS = 100;
/** Pause before a batch is POSTed again while the server is away (restarting). */
const REST_RETRY_DELAY_MS = 50;

export function startWriter(options: WriterOptions): Writer {
  const runId = options.runId ?? randomUUID();
  let nextRunSeq = 1;
  const progress: Progress = {
    total: options.total ?? Number.POSITIVE_INFINITY,
    batchSize: options.batchSize ?? 20,
    nextBatch() {
      const count = Math.max(0, Math.min(progress.batchSize, progress.total - nextRunSeq + 1));
      const lines = Array.from({ length: count }, (_, i): Line => {
        const runSeq = nextRunSeq + i;
        return { source: 'stdout', level: 'INFO', message: `line ${runSeq}`, runId, runSeq };
      });
      nextRunSeq += count;
      return lines;
    },
    written: 0,
    resent: 0,
    reconnects: 0,
    stopped: false,
  };
  const run = 'apiUrl' in options ? writeOverRest(options, progress) : writeOverWebSocket(options, progress);
  const done = run.finished.then(() => progress.written);
  return {
    done,
    get written() {
      return progress.written;
    },
    get resent() {
      return progress.resent;
    },
    get reconnects() {
      return progress.reconnects;
    },
    stop() {
      progress.stopped = true;
      run.stop();
      return done;
    },
  };
}

/** A transport's writing: `finished` settles once it has stopped. */
interface Run {
  finished: Promise<void>;
  stop(): void;
}

/** POSTs batch after batch, the same one again while the server is away or answers 5xx. */
function writeOverRest({ apiUrl, taskId, pauseMs = 5 }: RestWriterOptions, progress: Progress): Run {
  const url = `${apiUrl}/tasks/${encodeURIComponent(taskId)}/logs`;
  const loop = async (): Promise<void> => {
    for (let entries = progress.nextBatch(); !progress.stopped && entries.length > 0; ) {
      if (!(await post(url, entries))) {
        // The same batch again is stored at most once (runId, runSeq).
        progress.resent += 1;
        await sleep(REST_RETRY_DELAY_MS);
        continue;
      }
      progress.written += entries.length;
      await sleep(pauseMs);
      entries = progress.nextBatch();
    }
  };
  // `progress.stopped` ends the loop after the batch in flight.
  return { finished: loop(), stop() {} };
}

/** True once stored; false when the server could not take it (unreachable, or 5xx); throws on any other refusal. */
async function post(url: string, entries: readonly Line[]): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entries }) });
  } catch {
    // The server is away (killed, or restarting): the batch goes again.
    return false;
  }
  const body = await response.text().catch(() => '');
  if (response.ok) return true;
  if (response.status >= 500) return false;
  throw new Error(`POST ${url}: HTTP ${response.status} ${body}`);
}

/** Sends up to `inFlight` batches at once; what is not acknowledged goes again, after an error or on the next connection. */
function writeOverWebSocket({ wsUrls, taskId, inFlight = 4 }: WebSocketWriterOptions, progress: Progress): Run {
  const unacked = new Map<string, Line[]>();
  const inFlightIds = new Set<string>();
  let retry: string[] = [];
  let urlIndex = 0;
  let ws: WebSocket | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const complete = (): boolean => progress.written >= progress.total && unacked.size === 0;

  const send = (socket: WebSocket, batchId: string, entries: Line[]): void => {
    inFlightIds.add(batchId);
    socket.send(JSON.stringify({ type: 'logs', batchId, entries }));
  };

  const sendMore = (socket: WebSocket): void => {
    while (!progress.stopped && socket.readyState === WebSocket.OPEN && inFlightIds.size < inFlight) {
      const again = retry.shift();
      if (again !== undefined) {
        const entries = unacked.get(again);
        if (entries === undefined || inFlightIds.has(again)) continue;
        progress.resent += 1;
        send(socket, again, entries);
        continue;
      }
      const entries = progress.nextBatch();
      const first = entries[0];
      if (first === undefined) return;
      const batchId = `${first.runId}:${first.runSeq}`;
      unacked.set(batchId, entries);
      send(socket, batchId, entries);
    }
  };

  const onMessage = (socket: WebSocket, data: WebSocket.RawData): void => {
    const message = JSON.parse(data.toString()) as { type: string; batchId?: string; accepted?: number; duplicates?: number };
    if (message.type === 'ack' && message.batchId !== undefined) {
      inFlightIds.delete(message.batchId);
      if (unacked.delete(message.batchId)) progress.written += (message.accepted ?? 0) + (message.duplicates ?? 0);
      if (complete()) {
        finish();
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
  };

  const connect = (): void => {
    if (progress.stopped) return;
    const socket = new WebSocket(`${wsUrls[urlIndex % wsUrls.length]}/${taskId}`);
    ws = socket;
    socket.on('open', () => {
      // Everything unacknowledged goes again, oldest first: the server stores each line once.
      inFlightIds.clear();
      retry = [...unacked.keys()];
      sendMore(socket);
    });
    socket.on('message', (data) => onMessage(socket, data));
    socket.on('error', () => {
      // A refused or broken connection also emits 'close', where the writer reconnects.
    });
    socket.on('close', () => {
      if (progress.stopped || complete()) return;
      progress.reconnects += 1;
      urlIndex += 1;
      setTimeout(connect, RETRY_DELAY_MS);
    });
  };
  connect();

  return {
    finished,
    stop() {
      ws?.terminate();
      finish();
    },
  };
}
