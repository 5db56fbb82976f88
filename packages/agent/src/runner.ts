// Runs the task's script as a child process: by its shebang when it is executable, else with sh;
// the environment passed through; stdout and stderr handed over chunk by chunk as they come; the
// exit status the shell would give (128+N for signal N); SIGINT, SIGTERM and SIGHUP forwarded.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { agentError, fail, ok, type Result } from './errors.js';

/** After the script exits, how long a child it left behind may keep the pipes open before the agent stops reading. */
export const PIPE_GRACE_MS = 1000;

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface ScriptExit {
  /** The shell's convention: the exit code, or 128+N when killed by signal N. */
  readonly status: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the script could not be started at all (its interpreter is missing …). */
  readonly startError?: string;
}

export interface RunScriptOptions {
  readonly scriptPath: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
  /** A signal the agent received and passed on to the script. */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

export interface ScriptRun {
  readonly pid: number;
  /** Stops reading one of the script's pipes (its output has nowhere to go yet), until resume. */
  pause(source: 'stdout' | 'stderr'): void;
  resume(source: 'stdout' | 'stderr'): void;
  /** How the script is started: its own shebang (or binary format) or sh. */
  readonly via: 'direct' | 'sh';
  /** Resolves once the script has exited and its pipes are drained (or given up on). */
  readonly exited: Promise<ScriptExit>;
}

/** How the script would be run, or why it cannot be. */
export function planInvocation(scriptPath: string): Result<{ command: string; argsBefore: string[]; via: 'direct' | 'sh' }> {
  let stats;
  try {
    stats = statSync(scriptPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return fail(agentError('SCRIPT_NOT_FOUND', `script not found: ${scriptPath}`));
    return fail(agentError('SCRIPT_NOT_RUNNABLE', `cannot read script ${scriptPath}: ${code ?? 'error'}`));
  }
  if (!stats.isFile()) return fail(agentError('SCRIPT_NOT_RUNNABLE', `script is not a file: ${scriptPath}`));
  let head: Buffer;
  try {
    const fd = openSync(scriptPath, 'r');
    head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
  } catch (error) {
    return fail(agentError('SCRIPT_NOT_RUNNABLE', `cannot read script ${scriptPath}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`));
  }
  let executable = true;
  try {
    accessSync(scriptPath, constants.X_OK);
  } catch {
    executable = false;
  }
  // An executable text file without "#!" is what shells run with sh; so does the agent.
  const runsItself = head.subarray(0, 2).toString('latin1') === '#!' || head.toString('latin1') === '\x7fELF';
  if (executable && runsItself) return ok({ command: scriptPath, argsBefore: [], via: 'direct' });
  return ok({ command: 'sh', argsBefore: [scriptPath], via: 'sh' });
}

export function statusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : osConstants.signals[signal];
  return number === undefined ? 1 : 128 + number;
}

export function runScript(options: RunScriptOptions): Result<ScriptRun> {
  const plan = planInvocation(options.scriptPath);
  if (!plan.ok) return plan;
  const { command, argsBefore, via } = plan.value;
  const child = spawn(command, [...argsBefore, ...options.args], {
    env: options.env as NodeJS.ProcessEnv,
    stdio: ['inherit', 'pipe', 'pipe'],
  });

  const forward = (signal: NodeJS.Signals): void => {
    options.onSignal?.(signal);
    try {
      child.kill(signal);
    } catch {
      // The script is already gone; its exit is on its way.
    }
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

  const exited = new Promise<ScriptExit>((resolve) => {
    let exit: ScriptExit | undefined;
    let openPipes = 2;
    let graceTimer: NodeJS.Timeout | undefined;
    let resolved = false;
    const finish = (): void => {
      if (resolved || exit === undefined || openPipes > 0) return;
      resolved = true;
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolve(exit);
    };
    const pipeClosed = (): void => {
      openPipes = Math.max(0, openPipes - 1);
      finish();
    };
    child.stdout.on('data', options.onStdout);
    child.stderr.on('data', options.onStderr);
    child.stdout.once('close', pipeClosed);
    child.stderr.once('close', pipeClosed);
    child.once('error', (error: NodeJS.ErrnoException) => {
      // spawn failed: the interpreter named by the shebang is missing (ENOENT) or not executable.
      const status = error.code === 'ENOENT' ? 127 : 126;
      const reason = error.code === 'ENOENT' ? 'its interpreter (the #! line) was not found' : (error.code ?? error.message);
      exit = { status, code: status, signal: null, startError: `cannot run ${options.scriptPath}: ${reason}` };
      openPipes = 0;
      finish();
    });
    child.once('exit', (code, signal) => {
      exit = { status: statusOf(code, signal), code, signal };
      if (openPipes === 0) return finish();
      // A background child may hold the pipes open for ever; read what it prints for a moment, then stop.
      graceTimer = setTimeout(() => {
        graceTimer = undefined;
        child.stdout.destroy();
        child.stderr.destroy();
        openPipes = 0;
        finish();
      }, PIPE_GRACE_MS);
    });
  });

  return ok({
    pid: child.pid ?? -1,
    via,
    exited,
    pause: (source) => child[source].pause(),
    resume: (source) => child[source].resume(),
  });
}
