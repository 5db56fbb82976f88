// Shared by the agent's tests: run the built keruta-agent as a real process, write real scripts,
// and read back what keruta-api stored.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LogEntry, LogPage } from '@keruta/protocol';

export const AGENT_CLI = resolve(import.meta.dirname, '../dist/cli.js');

export interface AgentRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly durationMs: number;
}

export interface StartedAgent {
  readonly child: ChildProcess;
  readonly done: Promise<AgentRun>;
}

/** The environment without any KERUTA_* setting of the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('KERUTA_')) env[name] = value;
  }
  return { ...env, ...extra };
}

export function startAgent(args: readonly string[], env: Record<string, string>, cwd?: string): StartedAgent {
  const started = Date.now();
  const child = spawn(process.execPath, [AGENT_CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }) });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<AgentRun>((resolveRun) => {
    child.once('close', (status, signal) =>
      resolveRun({ status, signal, stdout: Buffer.concat(stdout), stderr, durationMs: Date.now() - started }),
    );
  });
  return { child, done };
}

export function runAgent(args: readonly string[], env: Record<string, string>, cwd?: string): Promise<AgentRun> {
  return startAgent(args, env, cwd).done;
}

export function writeScript(dir: string, name: string, body: string, options: { executable?: boolean } = {}): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  chmodSync(path, options.executable === false ? 0o644 : 0o755);
  return path;
}

/** Every stored entry of a task, in seq order, read page by page with the afterSeq cursor. */
export async function fetchAllLogs(apiUrl: string, taskId: string, headers: Record<string, string> = {}): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for (let after = 0; ; ) {
    const response = await fetch(`${apiUrl}/tasks/${taskId}/logs?afterSeq=${after}&size=1000`, { headers });
    if (response.status === 404) return entries;
    if (!response.ok) throw new Error(`GET logs of ${taskId}: HTTP ${response.status} ${await response.text()}`);
    const page = (await response.json()) as LogPage;
    entries.push(...page.content);
    const last = page.content.at(-1);
    if (last === undefined || page.content.length < 1000) return entries;
    after = last.seq;
  }
}

/** Lost and duplicated counts of numbered lines "line N" (1..expected) among stored messages. */
export function countLossAndDuplicates(messages: readonly string[], expected: number, pattern = /^line (\d+)/): {
  lost: number;
  duplicated: number;
  outOfOrder: number;
} {
  const seen = new Uint8Array(expected + 1);
  let duplicated = 0;
  let outOfOrder = 0;
  let previous = 0;
  for (const message of messages) {
    const match = pattern.exec(message);
    if (match === null) continue;
    const n = Number(match[1]);
    if (n < 1 || n > expected) continue;
    if (seen[n] === 1) duplicated++;
    seen[n] = 1;
    if (n < previous) outOfOrder++;
    previous = n;
  }
  let lost = 0;
  for (let n = 1; n <= expected; n++) if (seen[n] === 0) lost++;
  return { lost, duplicated, outOfOrder };
}
