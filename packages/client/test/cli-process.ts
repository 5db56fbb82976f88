// Runs the built `keruta` command (dist/cli.js) as a child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './helpers.js';

export const CLI_PATH = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface KerutaResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningKeruta {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout has at least `count` lines. */
  waitForLines(count: number, timeoutMs?: number): Promise<void>;
  readonly exited: Promise<KerutaResult>;
}

/** The environment without the caller's KERUTA_* settings or NO_COLOR, plus `env`. */
export function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KERUTA_') && name !== 'NO_COLOR'));
  return { ...base, ...env };
}

export function startKeruta(args: readonly string[], env: Record<string, string> = {}): RunningKeruta {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run "npm run build" first`);
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<KerutaResult>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForLines: (count, timeoutMs = 20_000) =>
      waitUntil(() => stdout.split('\n').length - 1 >= count, `${count} lines from keruta (stderr: ${stderr})`, timeoutMs),
    exited,
  };
}

export async function runKeruta(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<KerutaResult> {
  const running = startKeruta(args, env);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  try {
    return await running.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** stdout of `--json` output as the seqs it holds, in order. */
export function seqsOf(stdout: string): number[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as { seq: number }).seq);
}
