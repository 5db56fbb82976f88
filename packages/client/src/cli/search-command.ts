// `keruta search TEXT`: matching lines of every task the credential may read, newest first, as
// `TASK TIMESTAMP SOURCE LEVEL message` (or JSON lines, or the messages as stored), following the
// server's cursor until `--limit` lines are printed or nothing more matches.
import type { Writable } from 'node:stream';
import { InvalidArgumentError, Option } from 'commander';
import type { LogLevel } from '@keruta/protocol';
import type { RestClient } from '../rest-client.js';
import { UsageError, colorEnabled, parseLevelsArgument, parseTimeArgument, type ColorChoice, type ConnectionFlags } from './config.js';
import { OUTPUT_FORMATS, formatEntry, type OutputFormat } from './format.js';
import { optionFrom, type FlagSpec } from './logs-flags.js';

export interface SearchFlags extends ConnectionFlags {
  regex?: boolean;
  tasks?: string[];
  level?: LogLevel[];
  since?: number;
  until?: number;
  limit?: number;
  output?: OutputFormat;
  color: ColorChoice;
}

/** Most lines one `keruta search` prints. */
const MAX_LIMIT = 100_000;
/** Results per request (the server's page limit). */
const PAGE = 1000;

const parseLimit = (value: string): number => {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LIMIT) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_LIMIT}.`);
  return n;
};
const parseTasks = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(',').map((t) => t.trim()).filter((t) => t !== ''),
];

export const SEARCH_FLAGS: readonly FlagSpec[] = [
  { flags: '--regex', help: 'TEXT is a regular expression (JavaScript syntax, case-sensitive); without it, a case-insensitive substring' },
  { flags: '--tasks <patterns>', help: 'only tasks whose id matches one of these (comma list or repeated; * matches any run of characters)', parse: parseTasks },
  { flags: '--level <levels>', help: 'only these levels: DEBUG, INFO, WARN, ERROR (comma list or repeated; WARN+ = WARN and above)', parse: parseLevelsArgument },
  { flags: '--since <time>', help: 'only lines at or after this time: a duration before now (10m, 2d) or an RFC 3339 time', parse: (value) => parseTimeArgument(value) },
  { flags: '--until <time>', help: 'only lines at or before this time (as --since)', parse: (value) => parseTimeArgument(value) },
  { flags: '--limit <n>', help: `print at most N lines (default 100, at most ${MAX_LIMIT})`, parse: parseLimit },
];

export function searchOptions(): Option[] {
  return [
    ...SEARCH_FLAGS.map(optionFrom),
    new Option('-o, --output <format>', 'text: TASK TIMESTAMP SOURCE LEVEL message; json: one LogEntry JSON object per line; raw: TASK and the message as stored').choices(OUTPUT_FORMATS),
  ];
}

export async function printSearch(
  rest: RestClient,
  text: string,
  flags: SearchFlags,
  io: { stdout: Writable & { isTTY?: boolean }; signal: AbortSignal; notice(text: string): void },
): Promise<void> {
  if (flags.since !== undefined && flags.until !== undefined && flags.since > flags.until) {
    throw new UsageError(`--since: ${new Date(flags.since).toISOString()} is after --until ${new Date(flags.until).toISOString()}`);
  }
  const output = flags.output ?? 'text';
  const color = output === 'text' && colorEnabled(flags.color, io.stdout);
  const format = { output, color, terminal: io.stdout.isTTY === true, timestamps: output === 'text' };
  const limit = flags.limit ?? 100;
  let printed = 0;
  let cursor: string | undefined;
  let pending: number;
  do {
    const page = await rest.search({
      q: text,
      ...(flags.regex === true ? { regex: true } : {}),
      ...(flags.tasks === undefined ? {} : { tasks: flags.tasks }),
      ...(flags.level === undefined ? {} : { levels: flags.level }),
      ...(flags.since === undefined ? {} : { from: flags.since }),
      ...(flags.until === undefined ? {} : { to: flags.until }),
      limit: Math.min(PAGE, limit - printed),
      ...(cursor === undefined ? {} : { cursor }),
    });
    pending = page.pending;
    const lines = page.results.map((entry) => (output === 'json' ? formatEntry(entry, format) : `${entry.taskId} ${formatEntry(entry, format)}`));
    if (lines.length > 0) io.stdout.write(`${lines.join('\n')}\n`);
    printed += page.results.length;
    cursor = page.nextCursor;
  } while (cursor !== undefined && printed < limit && !io.signal.aborted);
  if (printed === 0) io.notice('no line matches');
  if (pending > 0) io.notice(`${pending} lines stored a moment ago are not searchable yet`);
}
