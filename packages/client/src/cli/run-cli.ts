// The `keruta` command line: `keruta logs TASK_ID …` and `keruta tasks`, parsed with commander.
// Exit status: 0 done, 1 the server said no or could not be reached, 2 bad flags or settings,
// 3 the task followed with -f failed, 130/143 stopped by SIGINT/SIGTERM.
import type { Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import type { LogLevel, LogSource } from '@keruta/protocol';
import { isKerutaClientError } from '../client-error.js';
import { createRestClient, type RestClient } from '../rest-client.js';
import {
  COLOR_CHOICES,
  UsageError,
  colorEnabled,
  connectionSettings,
  parseLevelsArgument,
  parseSeqArgument,
  parseSourcesArgument,
  parseTailArgument,
  parseTaskIdArgument,
  type ColorChoice,
  type ConnectionFlags,
  type ConnectionSettings,
} from './config.js';
import { createEntryPrinter } from './entry-printer.js';
import { abortExitCode, followLogs } from './follow-logs.js';
import { printHistory } from './print-history.js';
import { printTasks } from './tasks-command.js';

export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  /** Aborted with "SIGINT" or "SIGTERM" when the user stops the command. */
  signal: AbortSignal;
}

interface LogsFlags extends ConnectionFlags {
  follow?: boolean;
  since?: number;
  tail?: number;
  source?: LogSource[];
  level?: LogLevel[];
  json?: boolean;
  raw?: boolean;
  color: ColorChoice;
}

interface TasksFlags extends ConnectionFlags {
  json?: boolean;
  color: ColorChoice;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function restClientFor(settings: ConnectionSettings): RestClient {
  return createRestClient({
    baseUrl: settings.apiUrl,
    ...(settings.token === undefined ? {} : { token: settings.token }),
    ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
  });
}

function addCommonOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--color <when>', 'colours: auto (on a terminal, unless NO_COLOR is set), always or never').choices(COLOR_CHOICES).default('auto'),
    )
    .option('--server <url>', "the server's base URL, e.g. http://keruta-api:8080 (default: KERUTA_API_URL / KERUTA_WEBSOCKET_URL, else http://127.0.0.1:8080)")
    .option('--token <token>', 'a JWT for the server (default: KERUTA_AUTH_TOKEN)');
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

  addCommonOptions(
    program
      .command('logs')
      .description(
        "Print a task's log. With -f, keep printing new lines until Ctrl-C, or until the task has finished and all its lines are printed (exit 0, or 3 when the task failed); reconnects and resumes after a server restart without losing or repeating a line. Escape sequences in a line are removed (but colours, with --color), so a line cannot act on the terminal; --raw prints the exact bytes.",
      )
      .argument('<taskId>', 'the task', parseTaskIdArgument)
      .option('-f, --follow', 'follow: print new lines as they arrive')
      .addOption(new Option('--since <seq>', 'only lines after this seq').argParser(parseSeqArgument))
      .addOption(new Option('--tail <n>', 'only the last N lines (then new ones with -f)').argParser(parseTailArgument))
      .addOption(new Option('--source <sources>', 'only these sources: stdout, stderr, agent (comma list or repeated)').argParser(parseSourcesArgument))
      .addOption(new Option('--level <levels>', 'only these levels: DEBUG, INFO, WARN, ERROR (comma list or repeated; WARN+ = WARN and above)').argParser(parseLevelsArgument))
      .option('--json', 'one LogEntry JSON object per line')
      .option('--raw', "each message exactly as stored, its escape sequences included (default: escape sequences removed, but colours with --color)"),
  ).action(async (taskId: string, flags: LogsFlags) => {
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
    const rest = restClientFor(settings);
    const printer = createEntryPrinter(io.stdout, {
      json: flags.json === true,
      color: colorEnabled(flags.color, io.stdout),
      terminal: io.stdout.isTTY === true,
      raw: flags.raw === true,
    });
    const scope = {
      taskId,
      filter: {
        ...(flags.source === undefined ? {} : { sources: flags.source }),
        ...(flags.level === undefined ? {} : { levels: flags.level }),
      },
      since: flags.since,
      tail: flags.tail,
    };
    if (flags.follow === true) {
      return followLogs({ rest, settings, scope, printer, notice, signal: io.signal });
    }
    await printHistory(rest, printer, scope, io.signal);
    return io.signal.aborted ? abortExitCode(io.signal) : EXIT_OK;
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
