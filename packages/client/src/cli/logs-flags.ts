// `keruta logs`' flags, one row each: how it is written, its help, how its value is read; then
// the checks between flags, and the settings the command runs with. The command is built from
// the table, so a new flag is a row, a field of LogsFlags and, where it clashes with another, a check.
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_SUMMARY_CONTEXT, MAX_SUMMARY_CONTEXT, type LogLevel, type LogSource } from '@keruta/protocol';
import type { LogFilter } from '../log-query.js';
import {
  UsageError,
  colorEnabled,
  parseLevelsArgument,
  parseSeqArgument,
  parseSourcesArgument,
  parseTailArgument,
  parseTaskIdArgument,
  parseTimeArgument,
  type ColorChoice,
  type ConnectionFlags,
} from './config.js';
import type { FailureView } from './failure-views.js';
import { OUTPUT_FORMATS, type OutputFormat } from './format.js';

export interface LogsFlags extends ConnectionFlags {
  follow?: boolean;
  since?: number;
  until?: number;
  afterSeq?: number;
  tail?: number;
  source?: LogSource[];
  level?: LogLevel[];
  output?: OutputFormat;
  json?: boolean;
  raw?: boolean;
  timestamps?: boolean;
  exitStatus?: boolean;
  summary?: boolean;
  errors?: boolean;
  /** `--compare` alone: true (the last succeeded run); `--compare OTHER`: that task. */
  compare?: string | true;
  context?: number;
  color: ColorChoice;
}

export interface FlagSpec {
  /** As commander takes it: `-o, --output <format>`, `--no-timestamps`. */
  readonly flags: string;
  readonly help: string;
  /** Reads the value (commander's argParser); throws InvalidArgumentError saying what it takes. */
  readonly parse?: (value: string, previous: never) => unknown;
  readonly choices?: readonly string[];
}

export const LOGS_FLAGS: readonly FlagSpec[] = [
  { flags: '-f, --follow', help: 'follow: print new lines as they arrive, until Ctrl-C or the task has finished' },
  {
    flags: '--since <time>',
    help: 'only lines at or after this time: a duration before now (10m, 1h30m, 45s, 2d) or an RFC 3339 time (2026-12-04T18:00:00Z)',
    parse: (value) => parseTimeArgument(value),
  },
  { flags: '--until <time>', help: 'only lines at or before this time (as --since; not with -f)', parse: (value) => parseTimeArgument(value) },
  { flags: '--after-seq <seq>', help: 'only lines after this seq', parse: parseSeqArgument },
  { flags: '--tail <n>', help: 'only the last N lines (then new ones with -f)', parse: parseTailArgument },
  { flags: '--source <sources>', help: 'only these sources: stdout, stderr, agent (comma list or repeated)', parse: parseSourcesArgument },
  { flags: '--level <levels>', help: 'only these levels: DEBUG, INFO, WARN, ERROR (comma list or repeated; WARN+ = WARN and above)', parse: parseLevelsArgument },
  {
    flags: '-o, --output <format>',
    help: 'text: TIMESTAMP SOURCE LEVEL message, escape sequences removed (but colours, with --color); json: one LogEntry JSON object per line (seq, timestamp, source, level, message, …); raw: each message exactly as stored, escape sequences included',
    choices: OUTPUT_FORMATS,
  },
  { flags: '--json', help: 'the same as -o json' },
  { flags: '--raw', help: 'the same as -o raw' },
  { flags: '--timestamps', help: 'start each line with its timestamp (the default with -o text)' },
  { flags: '--no-timestamps', help: 'lines without their timestamp (the default with -o raw)' },
  { flags: '--exit-status', help: "exit 3 when the task failed, 4 when it has not finished (the default with -f, which waits for the end)" },
  { flags: '--no-exit-status', help: 'exit 0 however the task ended' },
  { flags: '--summary', help: "where it broke: the error and section counts, the first failure with the lines around it, each section's status and duration" },
  { flags: '--errors', help: 'only the failures (ERROR lines, ::error:: annotations), each with the lines around it (--context), windows apart by --' },
  {
    flags: '--compare [other]',
    help: 'the lines that differ from another run (default: the last succeeded task whose id shares the part before the last "-"), as a unified diff by section; timestamps, ids, numbers and durations ignored',
    parse: (value) => parseTaskIdArgument(value),
  },
  { flags: '--context <n>', help: `lines before and after each failure with --summary and --errors (0-${MAX_SUMMARY_CONTEXT}, default ${DEFAULT_SUMMARY_CONTEXT})`, parse: parseContextArgument },
];

function parseContextArgument(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > MAX_SUMMARY_CONTEXT) throw new InvalidArgumentError(`must be a whole number from 0 to ${MAX_SUMMARY_CONTEXT}.`);
  return n;
}

export function optionFrom(spec: FlagSpec): Option {
  const option = new Option(spec.flags, spec.help);
  // Each row's parser takes its own flag's previous value; commander passes back what it returned.
  if (spec.parse !== undefined) option.argParser(spec.parse as (value: string, previous: unknown) => unknown);
  if (spec.choices !== undefined) option.choices(spec.choices);
  return option;
}

/** What `keruta logs` runs with, every flag read and checked against the others. */
export interface LogsSettings {
  readonly follow: boolean;
  readonly filter: LogFilter;
  /** Only entries after this seq (--after-seq). */
  readonly afterSeq: number | undefined;
  readonly tail: number | undefined;
  /** --since as epoch ms: the followed stream drops earlier entries too (REST filters with `from`). */
  readonly sinceMs: number | undefined;
  readonly output: OutputFormat;
  readonly timestamps: boolean;
  readonly color: boolean;
  /** The exit status says how the task ended: 3 failed, 4 not finished. */
  readonly exitStatus: boolean;
  /** --summary, --errors or --compare: one of the views of where the task broke, instead of its lines. */
  readonly failureView: FailureView | undefined;
  readonly context: number | undefined;
}

function failureViewOf(flags: LogsFlags): FailureView | undefined {
  if (flags.summary === true) return { kind: 'summary' };
  if (flags.errors === true) return { kind: 'errors' };
  if (flags.compare !== undefined) return { kind: 'compare', with: flags.compare === true ? undefined : flags.compare };
  return undefined;
}

/** Checks between flags; a clash is a UsageError naming both (exit status 2). */
export function logsSettings(flags: LogsFlags, stdout: { isTTY?: boolean }): LogsSettings {
  const outputs = new Set<OutputFormat>();
  if (flags.output !== undefined) outputs.add(flags.output);
  if (flags.json === true) outputs.add('json');
  if (flags.raw === true) outputs.add('raw');
  if (outputs.size > 1) throw new UsageError(`-o/--output, --json and --raw: choose one output format, got ${[...outputs].join(' and ')}`);
  const output = [...outputs][0] ?? 'text';
  if (output === 'json' && flags.timestamps === false) throw new UsageError('--no-timestamps: -o json always has the timestamp field');
  const follow = flags.follow === true;
  const views = [flags.summary === true ? '--summary' : '', flags.errors === true ? '--errors' : '', flags.compare !== undefined ? '--compare' : ''].filter((v) => v !== '');
  if (views.length > 1) throw new UsageError(`${views.join(' and ')}: choose one`);
  const view = views[0];
  if (view !== undefined) {
    const clash = [follow ? '-f' : '', flags.tail !== undefined ? '--tail' : '', flags.since !== undefined ? '--since' : '', flags.until !== undefined ? '--until' : '', flags.afterSeq !== undefined ? '--after-seq' : '', flags.source !== undefined ? '--source' : '', flags.level !== undefined ? '--level' : ''].filter((v) => v !== '');
    if (clash.length > 0) throw new UsageError(`${view}: cannot be used with ${clash.join(', ')} (it reads the task's whole error index)`);
    if (output === 'raw') throw new UsageError(`${view}: prints text or -o json, not -o raw`);
  }
  if (flags.context !== undefined && view !== '--summary' && view !== '--errors') throw new UsageError('--context: goes with --summary or --errors');
  if (follow && flags.until !== undefined) {
    throw new UsageError('--until: cannot be used with -f, which prints lines as they come (read up to a time without -f)');
  }
  if (flags.since !== undefined && flags.until !== undefined && flags.since > flags.until) {
    throw new UsageError(`--since: ${new Date(flags.since).toISOString()} is after --until ${new Date(flags.until).toISOString()}`);
  }
  return Object.freeze({
    follow,
    filter: Object.freeze({
      ...(flags.source === undefined ? {} : { sources: flags.source }),
      ...(flags.level === undefined ? {} : { levels: flags.level }),
      ...(flags.since === undefined ? {} : { from: flags.since }),
      ...(flags.until === undefined ? {} : { to: flags.until }),
    }),
    afterSeq: flags.afterSeq,
    tail: flags.tail,
    sinceMs: flags.since,
    output,
    timestamps: flags.timestamps ?? output === 'text',
    color: output === 'text' && colorEnabled(flags.color, stdout),
    exitStatus: flags.exitStatus ?? follow,
    failureView: failureViewOf(flags),
    context: flags.context,
  });
}
