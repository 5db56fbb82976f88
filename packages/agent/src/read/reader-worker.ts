// The reading thread: runs the script, reads its stdout and stderr into one reused buffer, echoes
// each chunk to the agent's own stdout or stderr and appends it to the run's intake journal (its
// complete lines masked first, when filters.excludePatterns is set: intake-masker.ts), and
// does nothing else but notice bursts of output, during which it puts the script first
// (priority.ts). The lines, levels, spool and network are the main thread's work (streaming.ts),
// so this thread is back at the pipes at once and the script runs as fast as with its output
// going to a file. It loads nothing of the protocol package: the thread costs a few MB.
import { readlinkSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { exitStatusOf } from '../errors.js';
import { createIntakeMasker, type IntakeMasker } from '../process/intake-masker.js';
import { putTheScriptFirst, type ScriptFirst } from '../run/priority.js';
import { describeExit, READ_BYTES, runScript, type OutputSource, type ScriptExit } from '../run/runner.js';
import { createIntakeWriter, INTAKE_END, INTAKE_EVENT, INTAKE_STDERR, INTAKE_STDOUT, type EventPayload, type IntakeKind, type IntakeWriter } from './intake.js';
import type { FromReader, ReaderWorkerData, ToReader } from './stream-messages.js';
import { countAppended } from './wake-signal.js';

if (parentPort === null) throw new Error('reader-worker runs as a worker thread');
const port = parentPort;
const data = workerData as ReaderWorkerData;
const post = (message: FromReader): void => port.postMessage(message);

/** This thread's id: it lowers the priority of every other thread of the agent (priority.ts). */
function threadId(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    // No /proc (not Linux): priorities are per process there, and left alone.
    return undefined;
  }
}

/** For sleeping while our own stdout cannot take more (Atomics.wait needs shared memory). */
const pause = new Int32Array(new SharedArrayBuffer(4));
const broken: Record<OutputSource, boolean> = { stdout: false, stderr: false };

/**
 * Writes a chunk to our stdout or stderr. Whatever reads our output is as slow as it is: when it
 * falls behind, this thread waits, and the script with it, as it would without the agent. Only
 * the local reader can slow the script this way, never the network.
 */
function echo(source: OutputSource, buffer: Buffer, length: number): void {
  if (broken[source]) return;
  const fd = source === 'stdout' ? 1 : 2;
  for (let done = 0; done < length; ) {
    try {
      done += writeSync(fd, buffer, done, length - done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      // The reader of our output went away (`| head`): keep running the script and streaming its lines.
      broken[source] = true;
      return;
    }
  }
}

/** Reads closer together than this are a burst. */
const BURST_GAP_MS = 1;
/** In a burst, the pause after each read: the script's pipe holds far more than it can write in it. */
const BURST_NAP_MS = 0.25;
let lastReadAt = 0;

/**
 * While output comes in a burst, let the script fill its pipe for a moment instead of waking this
 * thread for every write: a wake-up per 4 KiB write costs the script about as much as the write
 * itself. A line that comes alone is passed on at once; in a burst, reads are 0.25 ms apart (the
 * time spent echoing and journaling the last one included), so each is at most that late.
 */
function napInBurst(readAt: number, inBurst: boolean): void {
  if (inBurst) {
    const rest = BURST_NAP_MS - (performance.now() - readAt);
    if (rest > 0) Atomics.wait(pause, 0, 0, rest);
  }
  lastReadAt = performance.now();
}

let intake: IntakeWriter | undefined;
let signal: Int32Array | undefined;
let intakeErrorShown = false;
if (data.intake !== undefined) {
  try {
    intake = createIntakeWriter(data.intake.dir);
    signal = new Int32Array(data.intake.signal);
  } catch (error) {
    post({ type: 'intake-error', reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
    intakeErrorShown = true;
  }
}

function append(kind: IntakeKind, payload?: Buffer, timeMs?: number): void {
  if (intake === undefined || signal === undefined) return;
  const written = intake.append(kind, payload, timeMs);
  if (!written.ok) {
    if (!intakeErrorShown) post({ type: 'intake-error', reason: written.reason });
    intakeErrorShown = true;
    return;
  }
  if (countAppended(signal)) post({ type: 'wake' });
}

/** Set with filters.excludePatterns: only masked, complete pieces of lines are journaled. */
const masker: IntakeMasker | undefined = data.intake?.mask === undefined ? undefined : createIntakeMasker(data.intake.mask);

/** Output is stamped with the moment it was read, not journaled: the echo before may wait for a slow terminal. */
function appendOutput(source: OutputSource, buffer: Buffer, length: number, timeMs: number): void {
  const kind = source === 'stdout' ? INTAKE_STDOUT : INTAKE_STDERR;
  if (masker === undefined) return append(kind, buffer.subarray(0, length), timeMs);
  const masked = masker.take(source, buffer, length);
  if (masked.length > 0) append(kind, masked, timeMs);
}

function appendEvent(payload: EventPayload): void {
  append(INTAKE_EVENT, Buffer.from(JSON.stringify(payload)));
}

/** The script is done: the last line is complete; the main thread seals the intake with `exited`. */
function exited(exit: ScriptExit, event: EventPayload, failure?: { code: string; message: string }): void {
  if (masker !== undefined) {
    for (const source of ['stdout', 'stderr'] as const) {
      const rest = masker.end(source);
      if (rest.length > 0) append(source === 'stdout' ? INTAKE_STDOUT : INTAKE_STDERR, rest);
    }
  }
  appendEarlyEvents();
  append(INTAKE_END);
  post({ type: 'exited', exit, event, ...(failure === undefined ? {} : { failure }) });
}

function seal(payload: EventPayload | undefined): void {
  appendEarlyEvents();
  if (payload !== undefined) appendEvent(payload);
  intake?.close();
  intake = undefined;
  post({ type: 'sealed' });
  // Nothing more to do here: the thread ends once its script and pipes are done, too.
  port.removeAllListeners('message');
}

/** The main thread's events that came before `started` was journaled: `started` is the run's first entry. */
let early: EventPayload[] | undefined = [];
port.on('message', (message: ToReader) => {
  if (message.type === 'seal') return seal(message.payload);
  if (early === undefined) appendEvent(message.payload);
  else early.push(message.payload);
});
const appendEarlyEvents = (): void => {
  for (const payload of early ?? []) appendEvent(payload);
  early = undefined;
};

const spawnedAt = Date.now();
/** Set once the script has started, when its output is streamed (nothing to step aside for otherwise). */
let scriptFirst: ScriptFirst | undefined;
const run = await runScript({
  scriptPath: data.scriptPath,
  args: data.args,
  env: data.env,
  onChunk(source, buffer, length) {
    const readAt = performance.now();
    const readTimeMs = Date.now();
    const inBurst = readAt - lastReadAt < BURST_GAP_MS;
    echo(source, buffer, length);
    appendOutput(source, buffer, length, readTimeMs);
    scriptFirst?.read(length, readAt - lastReadAt);
    // A full read means more is waiting: read it at once.
    if (length < READ_BYTES) napInBurst(readAt, inBurst);
    else lastReadAt = performance.now();
  },
  onSpawned(pid, via, group) {
    // Journaled before any output is read, so that `started` is the run's first entry.
    appendEvent({ event: 'started', level: 'INFO', message: `started ${data.scriptPath}`, metadata: { ...data.intake?.started, processId: pid, runner: via } });
    appendEarlyEvents();
    // After the spawn: the script must not inherit this thread's policy.
    if (data.intake !== undefined) scriptFirst = putTheScriptFirst(threadId());
    post({ type: 'spawned', pid, via, group });
  },
});

if (!run.ok) {
  const status = exitStatusOf(run.error);
  exited({ status, code: status, signal: null }, {
    event: 'exited',
    level: 'ERROR',
    message: run.error.message,
    metadata: { exitCode: status, reason: run.error.code, scriptPath: data.scriptPath },
    timeMs: Date.now(),
  }, run.error);
} else {
  const exit = await run.value.exited;
  const endedAt = Date.now();
  // Nothing to step aside for any more: what is left is delivered at the normal policy.
  await scriptFirst?.finish();
  if (exit.cut !== undefined) {
    const { afterMs, bytesAfterExit } = exit.cut;
    appendEvent({
      event: 'cut',
      level: 'WARN',
      message: `output after the script ended was cut after ${afterMs / 1000} s: a process it left running still holds its stdout or stderr open; ${bytesAfterExit} bytes read after the script ended are kept, what it prints later is not read`,
      metadata: { afterMs, bytesAfterExit },
    });
  }
  exited(exit, {
    event: 'exited',
    level: exit.status === 0 ? 'INFO' : 'ERROR',
    message: describeExit(exit),
    metadata: {
      exitCode: exit.status,
      ...(exit.signal === null ? {} : { signal: exit.signal }),
      ...(exit.startError === undefined ? {} : { reason: exit.startError }),
      durationMs: endedAt - spawnedAt,
    },
    timeMs: endedAt,
  });
}
