// Turns intake records (intake.ts) into spooled entries: lines split per pipe, levels, masking,
// numbering. The same code runs live, in the processing thread, and in a replay after a kill -9;
// given the same settings, state and records it writes the same entries with the same runSeq, so
// a replay can pick up anywhere and the server drops whatever was already sent.
import type { LogLevel } from '@keruta/protocol';
import { INTAKE_END, INTAKE_EVENT, INTAKE_STDERR, INTAKE_STDOUT, type EventPayload, type IntakeRecord } from '../read/intake.js';
import { createLineSplitter, type LineSplitter } from '../read/line-splitter.js';
import type { EntrySink } from './entry-buffer.js';
import type { ProcessingSettings, ProcessingState } from './processing-types.js';
import { createRecorder, type Recorder } from './recorder.js';
import { createRedactor } from './redactor.js';

export interface IntakeProcessor {
  take(record: IntakeRecord): void;
  /** One of the agent's own events that is not in the intake (a replay's `lost`); `timeMs` is when. */
  event(payload: EventPayload): void;
  /** Both pipes closed: last lines without a newline are complete. */
  endLines(): void;
  /** A pipe's line still being written, as a terminal shows it now ('' when none): progress-line.ts. */
  partial(source: 'stdout' | 'stderr'): string;
  flush(): { ok: true } | { ok: false; reason: string };
  /** Entries recorded but not yet in the spool. */
  readonly pending: number;
  state(offset: number): ProcessingState;
  readonly lines: { readonly stdout: number; readonly stderr: number };
  /** An `exited` event was taken: the run's end is on record. */
  readonly exited: boolean;
}

/** Room kept past the maximum so a secret cut in half by the limit is still masked whole. */
const REDACTION_MARGIN = 1024;

/** The longest line the splitter passes on: what the masking before the intake must keep of one. */
export function splitterLengthOf(settings: ProcessingSettings): number {
  return settings.maxMessageLength + (settings.excludePatterns.length > 0 ? REDACTION_MARGIN : 0);
}

export function createIntakeProcessor(options: {
  readonly runId: string;
  /** The run's spool. */
  readonly spool: EntrySink;
  readonly settings: ProcessingSettings;
  readonly state?: ProcessingState;
  readonly skipThrough?: number;
}): IntakeProcessor {
  const { settings, state } = options;
  const redact = createRedactor(settings.excludePatterns);
  const recorder: Recorder = createRecorder({
    runId: options.runId,
    spool: options.spool,
    minLevel: settings.minLevel,
    redact,
    redactLines: settings.maskedInIntake === true ? (line) => line : redact,
    maxMessageLength: settings.maxMessageLength,
    ...(state === undefined ? {} : { position: state.position }),
    ...(options.skipThrough === undefined ? {} : { skipThrough: options.skipThrough }),
  });
  const splitterLength = splitterLengthOf(settings);
  const splitter = (source: 'stdout' | 'stderr'): LineSplitter =>
    createLineSplitter({
      maxLength: splitterLength,
      onLine: (line, truncated, originalLength) => recorder.line(source, line, truncated, originalLength),
      ...(state === undefined ? {} : { state: state.splitters[source] }),
    });
  const stdout = splitter('stdout');
  const stderr = splitter('stderr');

  const endLines = (): void => {
    stdout.end();
    stderr.end();
  };
  let exited = false;
  const takeEvent = (payload: EventPayload): void => {
    if (payload.timeMs !== undefined) recorder.setTime(payload.timeMs);
    if (payload.event === 'exited') exited = true;
    if (payload.event === 'exited' || payload.event === 'lost') recordEnd(recorder, settings.minLevel, payload);
    else recorder.event(payload.event, payload.level, payload.message, payload.metadata);
  };

  return {
    take(record) {
      recorder.setTime(record.timeMs);
      switch (record.kind) {
        case INTAKE_STDOUT:
          stdout.push(record.payload);
          break;
        case INTAKE_STDERR:
          stderr.push(record.payload);
          break;
        case INTAKE_EVENT:
          takeEvent(JSON.parse(record.payload.toString('utf8')) as EventPayload);
          break;
        case INTAKE_END:
          endLines();
          break;
        default:
          // A kind this version does not know (a newer agent's journal): nothing to take from it.
          break;
      }
    },
    event: takeEvent,
    endLines,
    partial: (source) => (source === 'stdout' ? stdout : stderr).partial(),
    flush: () => recorder.flush(),
    get pending() {
      return recorder.pending;
    },
    state(offset) {
      return { offset, position: recorder.position, splitters: { stdout: stdout.state(), stderr: stderr.state() } };
    },
    get lines() {
      const { stdout: out, stderr: err } = recorder.position.lineNumbers;
      return { stdout: out, stderr: err };
    },
    get exited() {
      return exited;
    },
  };
}

/**
 * The run's end (`exited`, or a replay's `lost`): the lines of each pipe are known here, once
 * everything read before the end is processed. No line is left out silently: those below the
 * minimum level are counted on record, as a line of its own and in the end entry.
 */
function recordEnd(recorder: Recorder, minLevel: LogLevel, { event, level, message, metadata }: EventPayload): void {
  const { stdout: out, stderr: err } = recorder.position.lineNumbers;
  const belowLevel = recorder.belowLevel;
  if (belowLevel > 0) {
    recorder.event('filtered', 'INFO', `${belowLevel} ${belowLevel === 1 ? 'line' : 'lines'} below --log-level ${minLevel} ${belowLevel === 1 ? 'was' : 'were'} not sent`, {
      lines: belowLevel,
      logLevel: minLevel,
    });
  }
  recorder.event(event, level, message, { ...metadata, lines: { stdout: out, stderr: err }, ...(belowLevel > 0 ? { belowLevel: { lines: belowLevel, logLevel: minLevel } } : {}) });
}
