// The `keruta-agent` command line: `execute` runs a task's script and streams its lines to
// keruta-api, `flush` sends lines an earlier run kept on disk. Usage errors and bad settings exit
// with 2. Loaded by cli.ts once the heap is set up.
import { createRequire } from 'node:module';
import { LOG_LEVELS, TASK_ID_PATTERN } from '@keruta/protocol';
import { createAgentLog, type AgentLog } from '../agent-log.js';
import { loadConfig, type AgentConfig, type FlagValues } from '../config.js';
import { runFlush } from '../deliver/flush.js';
import { AGENT_ERRORS } from '../errors.js';
import { execute } from './execute.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };
// Loaded with require: importing commander's ESM wrapper costs memory for the same code.
const { Command, CommanderError, Option } = require('commander') as typeof import('commander');
const USAGE_STATUS = AGENT_ERRORS.USAGE.exitStatus;

interface CommonOptions {
  config?: string;
  verbose?: boolean;
  spoolDir?: string;
}

interface ExecuteFlags extends CommonOptions {
  taskId: string;
  script: string;
  logLevel?: string;
  disableLogStreaming?: boolean;
  exitTimeout?: string;
}

interface FlushFlags extends CommonOptions {
  taskId?: string;
}

/** Prints to stderr and ends the process; stdout stays the script's. */
function stop(status: number, message?: string): never {
  if (message !== undefined) process.stderr.write(`${message.split('\n').map((line) => `keruta-agent: ${line}`).join('\n')}\n`);
  process.exit(status);
}

/** Waits until what was written to stdout and stderr has left the process (pipes may be asynchronous). */
async function drainOutput(): Promise<void> {
  const drained = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (stream.destroyed || stream.writableLength === 0) return resolve();
      // The callback runs once everything written before it is flushed, or the stream failed.
      stream.write('', () => resolve());
    });
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
}

async function configure(flags: FlagValues): Promise<{ config: AgentConfig; log: AgentLog }> {
  const loaded = await loadConfig({ flags });
  if (!loaded.ok) stop(AGENT_ERRORS[loaded.error.code].exitStatus, loaded.error.message);
  const { config, warnings } = loaded.value;
  const log = createAgentLog({ verbose: config.verbose, format: config.logging.format, output: config.logging.output });
  for (const warning of warnings) log.warn(warning);
  return { config, log };
}

function commonFlags(options: CommonOptions): FlagValues {
  const flags: FlagValues = {};
  if (options.config !== undefined) flags.config = options.config;
  if (options.verbose === true) flags.verbose = true;
  if (options.spoolDir !== undefined) flags.spoolDir = options.spoolDir;
  return flags;
}

function checkTaskId(taskId: string): void {
  if (!TASK_ID_PATTERN.test(taskId)) {
    stop(USAGE_STATUS, `invalid --task-id ${JSON.stringify(taskId)}: must be 1-128 characters of A-Z, a-z, 0-9, ".", "_" or "-"`);
  }
}

const program = new Command('keruta-agent')
  .description('Runs a task script and streams every line it prints to keruta-api, exactly once.')
  .version(version)
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');

program
  .command('execute')
  .description('run a script and stream its output to keruta-api; exits with the script\'s status')
  .requiredOption('--task-id <id>', 'the task the lines belong to')
  .requiredOption('--script <path>', 'the script to run (by its #! line when executable, else with sh)')
  .option('--verbose', 'also print the agent\'s own messages (to stderr)')
  .addOption(new Option('--log-level <level>', 'lowest level streamed; lower lines are still printed, and counted in the run').choices([...LOG_LEVELS, ...LOG_LEVELS.map((l) => l.toLowerCase())]))
  .option('--disable-log-streaming', 'run the script without sending anything')
  .option('--config <file>', 'a YAML or JSON config file (sections logStreaming, websocket, api, logging, filters)')
  .option('--spool-dir <dir>', 'where undelivered lines are kept')
  .option('--exit-timeout <duration>', 'longest wait for delivery after the script exits, e.g. 10s')
  .argument('[args...]', 'arguments passed to the script (put them after --)')
  .action(async (args: string[], options: ExecuteFlags) => {
    checkTaskId(options.taskId);
    const flags = commonFlags(options);
    if (options.logLevel !== undefined) flags.logLevel = options.logLevel;
    if (options.disableLogStreaming === true) flags.enabled = false;
    if (options.exitTimeout !== undefined) flags.exitTimeout = options.exitTimeout;
    const { config, log } = await configure(flags);
    const status = await execute({ config, log, taskId: options.taskId, scriptPath: options.script, args });
    await drainOutput();
    process.exit(status);
  });

program
  .command('flush')
  .description('send the lines earlier runs kept on disk; exits 1 when some are still kept')
  .option('--task-id <id>', 'only this task\'s lines')
  .option('--verbose', 'also print the agent\'s own messages (to stderr)')
  .option('--config <file>', 'a YAML or JSON config file')
  .option('--spool-dir <dir>', 'where undelivered lines are kept')
  .action(async (options: FlushFlags) => {
    if (options.taskId !== undefined) checkTaskId(options.taskId);
    const { config, log } = await configure(commonFlags(options));
    const interrupted = new AbortController();
    process.once('SIGINT', () => interrupted.abort());
    process.once('SIGTERM', () => interrupted.abort());
    const status = await runFlush({
      config,
      log,
      signal: interrupted.signal,
      ...(options.taskId === undefined ? {} : { taskId: options.taskId }),
    });
    await drainOutput();
    process.exit(status);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; --help and --version are not errors.
    stop(error.exitCode === 0 ? 0 : USAGE_STATUS);
  }
  stop(1, `unexpected failure: ${(error as Error).stack ?? String(error)}`);
}
