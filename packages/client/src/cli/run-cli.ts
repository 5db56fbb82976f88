// The `keruta` command line: `keruta logs TASK_ID …`, `keruta tasks` and `keruta search TEXT`, parsed with commander.
// Exit status: 0 done, 1 the server said no or could not be reached, 2 bad flags or settings,
// 3 the task failed and 4 it has not finished (with --exit-status, the default with -f, which
// waits for the end), 130/143 stopped by SIGINT/SIGTERM.
import type { Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import type { PartialMessage } from '@keruta/protocol';
import { isKerutaClientError } from '../client-error.js';
import { createRestClient, type RestClient, type RestClientOptions } from '../rest-client.js';
import { createSummaryClient } from '../summary-client.js';
import { printFailureView } from './failure-views.js';
import {
  CLI_SETTINGS,
  COLOR_CHOICES,
  UsageError,
  colorEnabled,
  connectionSettings,
  parseTaskIdArgument,
  type ColorChoice,
  type ConnectionFlags,
  type ConnectionSettings,
} from './config.js';
import { createEntryPrinter } from './entry-printer.js';
import { followLogs } from './follow-logs.js';
import { formatPartial } from './format.js';
import { LOGS_FLAGS, logsSettings, optionFrom, type LogsFlags } from './logs-flags.js';
import { printHistory } from './print-history.js';
import { printSearch, searchOptions, type SearchFlags } from './search-command.js';
import { abortExitCode, taskExitCode } from './task-exit.js';
import { printTasks } from './tasks-command.js';

export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  /** Aborted with "SIGINT" or "SIGTERM" when the user stops the command. */
  signal: AbortSignal;
}

interface TasksFlags extends ConnectionFlags {
  json?: boolean;
  color: ColorChoice;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function clientOptionsFor(settings: ConnectionSettings): RestClientOptions {
  return {
    baseUrl: settings.apiUrl,
    ...(settings.token === undefined ? {} : { token: settings.token }),
    ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
  };
}

function restClientFor(settings: ConnectionSettings): RestClient {
  return createRestClient(clientOptionsFor(settings));
}

function addCommonOptions(command: Command): Command {
  const { color, server, token } = CLI_SETTINGS;
  return command
    .addOption(new Option(`${color.flag} <when>`, color.help).choices(COLOR_CHOICES).default(color.default))
    .option(`${server.flag} <url>`, server.help)
    .option(`${token.flag} <token>`, token.help);
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const notice = (text: string): void => {
    io.stderr.write(`keruta: ${text}\n`);
  };
  let exitCode = EXIT_OK;

  const program = new Command('keruta')
    .description("Watch keruta task logs from the terminal.\n\nSettings: KERUTA_API_URL (default http://127.0.0.1:8080/api/v1), KERUTA_WEBSOCKET_URL (default derived from it), KERUTA_AUTH_TOKEN, KERUTA_API_KEY, NO_COLOR.")
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError();

  const logs = program
    .command('logs')
    .description(
      "Print a task's log. With -f, keep printing new lines until Ctrl-C, or until the task has finished and all its lines are printed (exit 0, or 3 when the task failed); reconnects and resumes after a server restart without losing or repeating a line, and marks any seqs deleted on the server before they could be read. On a terminal, -f shows the line the script is still writing (a progress bar) on the last row, until the line is stored. Escape sequences in a line are removed (but colours, with --color), so a line cannot act on the terminal; -o raw prints the exact bytes.\n\nExit status: 0 done; 1 the server refused or could not be reached; 2 bad flags; 3 the task failed and 4 it has not finished (with --exit-status, the default with -f); 130/143 stopped by SIGINT/SIGTERM.",
    )
    .argument('<taskId>', 'the task', parseTaskIdArgument);
  for (const spec of LOGS_FLAGS) logs.addOption(optionFrom(spec));
  addCommonOptions(logs).action(async (taskId: string, flags: LogsFlags) => {
    exitCode = await runLogs(taskId, flags, io, notice);
  });

  addCommonOptions(
    program
      .command('tasks')
      .description('List the tasks the server knows, newest activity first: id, status, exit code, lines, last activity.')
      .option('--json', 'one TaskSummary JSON object per line'),
  ).action(async (flags: TasksFlags) => {
    exitCode = await runTasks(flags, io, notice);
  });

  const search = program
    .command('search')
    .description(
      'Print the lines of every task you may read that contain TEXT (case-insensitively; with --regex, that match it), newest first, as TASK TIMESTAMP SOURCE LEVEL message.\n\nExit status: 0 done (also when nothing matches); 1 the server refused or could not be reached; 2 bad flags.',
    )
    .argument('<text>', 'the text to look for (at most 256 characters)');
  for (const option of searchOptions()) search.addOption(option);
  addCommonOptions(search).action(async (text: string, flags: SearchFlags) => {
    exitCode = await reportFailures(notice, async (settings) => {
      await printSearch(restClientFor(settings), text, flags, { stdout: io.stdout, signal: io.signal, notice });
      return EXIT_OK;
    }, flags);
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT_OK : EXIT_USAGE;
    }
    throw error;
  }
  return exitCode;
}

async function runLogs(taskId: string, flags: LogsFlags, io: CliIo, notice: (text: string) => void): Promise<number> {
  return reportFailures(notice, async (settings) => {
    const logs = logsSettings(flags, io.stdout);
    const rest = restClientFor(settings);
    const terminal = io.stdout.isTTY === true;
    const format = { output: logs.output, color: logs.color, terminal, timestamps: logs.timestamps };
    if (logs.failureView !== undefined) {
      const summaries = createSummaryClient(clientOptionsFor(settings));
      await printFailureView({ summaries, taskId, view: logs.failureView, context: logs.context, format, out: io.stdout, notice });
      return logs.exitStatus ? taskExitCode(await rest.getTask(taskId)) : EXIT_OK;
    }
    const { sources, levels, from } = logs.filter;
    const printer = createEntryPrinter(io.stdout, { ...format, checkGaps: sources === undefined && levels === undefined && from === undefined, notice });
    const scope = { taskId, filter: logs.filter, since: logs.afterSeq, tail: logs.tail };
    if (logs.follow) {
      // The line being written is for a person watching: on a terminal, in text, only.
      // A terminal that does not say its width (0, e.g. under `script` without one) gets 80.
      const columns = (): number => (io.stdout as { columns?: number }).columns || 80;
      const partialRow =
        terminal && logs.output === 'text' ? (partial: PartialMessage) => formatPartial(partial, { ...format, columns: columns() }) : undefined;
      return followLogs({
        rest,
        settings,
        scope,
        printer,
        notice,
        signal: io.signal,
        sinceMs: logs.sinceMs,
        checkGaps: sources === undefined && levels === undefined && from === undefined,
        exitStatus: logs.exitStatus,
        partialRow,
      });
    }
    const task = await printHistory(rest, printer, scope, io.signal);
    if (io.signal.aborted) return abortExitCode(io.signal);
    return logs.exitStatus ? taskExitCode(task) : EXIT_OK;
  }, flags);
}

async function runTasks(flags: TasksFlags, io: CliIo, notice: (text: string) => void): Promise<number> {
  return reportFailures(notice, async (settings) => {
    await printTasks(restClientFor(settings), io.stdout, { json: flags.json === true, color: colorEnabled(flags.color, io.stdout), notice });
    return EXIT_OK;
  }, flags);
}

/** Runs a command with its settings, turning failures into a one-line message and an exit status. */
async function reportFailures(
  notice: (text: string) => void,
  command: (settings: ConnectionSettings) => Promise<number>,
  flags: ConnectionFlags,
): Promise<number> {
  let settings: ConnectionSettings;
  try {
    settings = connectionSettings(flags);
  } catch (error) {
    if (error instanceof UsageError) {
      notice(error.message);
      return EXIT_USAGE;
    }
    throw error;
  }
  try {
    return await command(settings);
  } catch (error) {
    if (error instanceof UsageError) {
      notice(error.message);
      return EXIT_USAGE;
    }
    if (!isKerutaClientError(error)) throw error;
    const hint =
      error.code === 'NETWORK_ERROR'
        ? ` (is keruta-api running there? Set KERUTA_API_URL or --server)`
        : error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN'
          ? ' (set KERUTA_AUTH_TOKEN, --token or KERUTA_API_KEY)'
          : '';
    notice(`${error.code}: ${error.message}${hint}`);
    return EXIT_FAILED;
  }
}
