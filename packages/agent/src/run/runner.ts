// Runs the task's script as a child process: by its shebang (read here when the file is not
// executable), else with sh; in a process group of its own unless it shares the agent's terminal,
// so that a signal reaches whatever it started; the environment passed through; stdout and stderr
// handed over chunk by chunk as they come, in one reused buffer; the exit status the shell would
// give (128+N for signal N). Runs in the reading thread (reader-worker.ts).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { agentError, fail, ok, type Result } from '../errors.js';

/** After the script exits, how long a child it left behind may keep the pipes open before the agent stops reading. */
export const PIPE_GRACE_MS = 1000;
/**
 * The most one read takes from a pipe. Bigger reads would save little (a full buffer is read again
 * at once) and cost the main thread: a record over 64 KB decodes into a string that V8 keeps in its
 * large-object space until a full collection, ~10 MB more RSS during a burst.
 */
export const READ_BYTES = 64 * 1024;

export type OutputSource = 'stdout' | 'stderr';

export interface ScriptExit {
  /** The shell's convention: the exit code, or 128+N when killed by signal N. */
  readonly status: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the script could not be started at all (its interpreter is missing …). */
  readonly startError?: string;
  /**
   * Set when a process the script left running still held its output open PIPE_GRACE_MS after it
   * exited: the agent stopped reading then. `bytesAfterExit` were read in between.
   */
  readonly cut?: { readonly afterMs: number; readonly bytesAfterExit: number };
}

/** How the script is started: its own shebang or binary format, the #! line read by the agent (not executable), or sh. */
export type Invocation = 'direct' | 'shebang' | 'sh';

export interface RunScriptOptions {
  readonly scriptPath: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A chunk of output: `buffer[0, length)`, valid until this returns (the buffer is reused). */
  readonly onChunk: (source: OutputSource, buffer: Buffer, length: number) => void;
  /** The script was started; called before any of its output is read. `group`: it leads a process group of its own. */
  readonly onSpawned: (pid: number, via: Invocation, group: boolean) => void;
}

export interface ScriptRun {
  readonly pid: number;
  readonly via: Invocation;
  /** Resolves once the script has exited and its pipes are drained (or given up on). */
  readonly exited: Promise<ScriptExit>;
}

/** The most of a `#!` line the kernel reads (BINPRM_BUF_SIZE); the agent reads as much. */
const SHEBANG_BYTES = 256;

/** `#!/usr/bin/env bash` → ['/usr/bin/env', 'bash']: the interpreter and at most one argument, as Linux splits it. */
function shebangOf(head: Buffer): string[] | undefined {
  const end = head.indexOf(0x0a);
  const line = head.subarray(2, end < 0 ? head.length : end).toString('utf8').replace(/\r$/, '').trim();
  const match = /^(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (match?.[1] === undefined) return undefined;
  return match[2] === undefined || match[2].trim() === '' ? [match[1]] : [match[1], match[2].trim()];
}

/** How the script would be run, or why it cannot be. */
export function planInvocation(scriptPath: string): Result<{ command: string; argsBefore: string[]; via: Invocation }> {
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
    head = Buffer.alloc(SHEBANG_BYTES);
    head = head.subarray(0, readSync(fd, head, 0, SHEBANG_BYTES, 0));
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
  const shebang = head.subarray(0, 2).toString('latin1') === '#!';
  const binary = head.subarray(0, 4).toString('latin1') === '\x7fELF';
  if (executable && (shebang || binary)) return ok({ command: scriptPath, argsBefore: [], via: 'direct' });
  // Not executable: what its #! line names runs it, as `bash script.sh` would; never sh instead of it.
  if (shebang) {
    const interpreter = shebangOf(head);
    if (interpreter === undefined) return fail(agentError('SCRIPT_NOT_RUNNABLE', `cannot run ${scriptPath}: it is not executable (no execute bit) and its #! line names no interpreter`));
    const [command = '', ...rest] = interpreter;
    return ok({ command, argsBefore: [...rest, scriptPath], via: 'shebang' });
  }
  if (binary) return fail(agentError('SCRIPT_NOT_RUNNABLE', `cannot run ${scriptPath}: it is a program without the execute bit (chmod +x it)`));
  // A text file without "#!" is what shells run with sh; so does the agent.
  return ok({ command: 'sh', argsBefore: [scriptPath], via: 'sh' });
}

export function statusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : osConstants.signals[signal];
  return number === undefined ? 1 : 128 + number;
}

/** The script's end of one output pipe, and ours. */
interface OutputPipe {
  /** Given to the child as its stdout or stderr, closed here once it runs. */
  readonly childEnd: Socket;
  readonly reader: Socket;
}

/**
 * Two connected Unix sockets per output (what Node's own 'pipe' gives a child, too), so that ours
 * can be read with `onread` into one reused buffer: a pipe read the usual way allocates a buffer
 * per read, and at 100 MB/s the dead ones add tens of MB before a collection frees them. The
 * socket lives in a private directory (0700) that is removed as soon as both are connected.
 */
async function openOutputPipes(onData: (source: OutputSource, buffer: Buffer, length: number) => void): Promise<Record<OutputSource, OutputPipe>> {
  const dir = mkdtempSync(join(tmpdir(), 'keruta-agent-'));
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  let server: Server | undefined;
  try {
    const path = join(dir, 'output.sock');
    const listening = createServer();
    server = listening;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(path, () => resolve());
    });
    const pipe = async (source: OutputSource): Promise<OutputPipe> => {
      const accepted = new Promise<Socket>((resolve) => listening.once('connection', resolve));
      const reader = connect({ path, onread: { buffer, callback: (length: number) => {
        onData(source, buffer, length);
        return true;
      } } });
      await new Promise<void>((resolve, reject) => {
        reader.once('connect', resolve);
        reader.once('error', reject);
      });
      const childEnd = await accepted;
      // Nothing is ever written towards the script; its end is only handed over.
      childEnd.pause();
      return { childEnd, reader };
    };
    const stdout = await pipe('stdout');
    const stderr = await pipe('stderr');
    return { stdout, stderr };
  } finally {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runScript(options: RunScriptOptions): Promise<Result<ScriptRun>> {
  const plan = planInvocation(options.scriptPath);
  if (!plan.ok) return plan;
  const { command, argsBefore, via } = plan.value;

  /** Output read after the script exited, while a process it left running holds the pipes; -1 before. */
  let bytesAfterExit = -1;
  const onChunk = (source: OutputSource, buffer: Buffer, length: number): void => {
    if (bytesAfterExit >= 0) bytesAfterExit += length;
    options.onChunk(source, buffer, length);
  };
  let pipes: Record<OutputSource, OutputPipe> | undefined;
  try {
    pipes = await openOutputPipes(onChunk);
  } catch {
    // No Unix socket here (a read-only or odd temp dir): Node's own pipes, a buffer per read.
    pipes = undefined;
  }
  const stdio: StdioOptions = pipes === undefined ? ['inherit', 'pipe', 'pipe'] : ['inherit', pipes.stdout.childEnd, pipes.stderr.childEnd];
  // A group of its own (setsid), so that a signal reaches all it started, as Ctrl-C in a terminal
  // does; except when it shares our terminal, whose Ctrl-C reaches its group already and whose
  // /dev/tty it may need (a password prompt).
  const group = !isatty(0);
  const child: ChildProcess = spawn(command, [...argsBefore, ...options.args], { env: options.env as NodeJS.ProcessEnv, stdio, detached: group });
  const readers: Record<OutputSource, Socket | null> = pipes === undefined ? { stdout: child.stdout as Socket | null, stderr: child.stderr as Socket | null } : { stdout: pipes.stdout.reader, stderr: pipes.stderr.reader };
  if (pipes === undefined) {
    child.stdout?.on('data', (chunk: Buffer) => onChunk('stdout', chunk, chunk.length));
    child.stderr?.on('data', (chunk: Buffer) => onChunk('stderr', chunk, chunk.length));
  } else {
    // The child holds its own copies now; ours would keep the pipes open after it exits.
    pipes.stdout.childEnd.destroy();
    pipes.stderr.childEnd.destroy();
  }
  options.onSpawned(child.pid ?? -1, via, group);

  const exited = new Promise<ScriptExit>((resolve) => {
    let exit: ScriptExit | undefined;
    let openPipes = 2;
    let graceTimer: NodeJS.Timeout | undefined;
    let resolved = false;
    const finish = (): void => {
      if (resolved || exit === undefined || openPipes > 0) return;
      resolved = true;
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      resolve(exit);
    };
    const pipeClosed = (): void => {
      openPipes = Math.max(0, openPipes - 1);
      finish();
    };
    for (const reader of [readers.stdout, readers.stderr]) {
      if (reader === null) pipeClosed();
      else reader.once('close', pipeClosed);
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      // spawn failed: the interpreter named by the shebang is missing (ENOENT) or not executable.
      const status = error.code === 'ENOENT' ? 127 : 126;
      const reason = error.code === 'ENOENT' ? 'its interpreter (the #! line) was not found' : (error.code ?? error.message);
      exit = { status, code: status, signal: null, startError: `cannot run ${options.scriptPath}: ${reason}` };
      readers.stdout?.destroy();
      readers.stderr?.destroy();
      openPipes = 0;
      finish();
    });
    child.once('exit', (code, signal) => {
      exit = { status: statusOf(code, signal), code, signal };
      if (openPipes === 0) return finish();
      bytesAfterExit = 0;
      // A background child may hold the pipes open for ever; read what it prints for a moment, then stop.
      graceTimer = setTimeout(() => {
        graceTimer = undefined;
        readers.stdout?.destroy();
        readers.stderr?.destroy();
        openPipes = 0;
        if (exit !== undefined) exit = { ...exit, cut: { afterMs: PIPE_GRACE_MS, bytesAfterExit } };
        finish();
      }, PIPE_GRACE_MS);
    });
  });

  return ok({ pid: child.pid ?? -1, via, exited });
}

export function describeExit(exit: ScriptExit): string {
  if (exit.signal !== null) return `killed by signal ${exit.signal} (exit code ${exit.status})`;
  return `exited with code ${exit.status}`;
}
