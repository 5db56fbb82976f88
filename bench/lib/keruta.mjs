// keruta's side of a comparison: the task script run by the real keruta-agent against a real
// keruta-api child process, and WebSocket subscribers that hand every stdout line to a tally.
// When keruta-agent is not built, `writeScriptLines` stands in for it (the rows then say so).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import WebSocket from 'ws';
import { writeLines } from './agent-writer.mjs';
import { buildLogLine } from './build-log.mjs';
import { LINE_BYTES, nowMs } from './script.mjs';

/** The built keruta-agent CLI, or undefined when the package is not built (yet). */
export function findAgentCli() {
  try {
    const cli = join(dirname(createRequire(import.meta.url).resolve('keruta-agent')), 'cli.js');
    return existsSync(cli) ? cli : undefined;
  } catch {
    return undefined;
  }
}

/** What the rows call keruta's writer: the agent, or the stand-in when there is none. */
export function writerLabel(cli) {
  return cli === undefined ? 'keruta (writeLines stand-in, no agent built)' : 'keruta';
}

/**
 * Runs `keruta-agent execute --task-id ID --script SCRIPT -- ARGS` against `server`; the agent's
 * own stdout (the script's lines, printed locally) goes to /dev/null, as a CI runner's would.
 * It streams every level (KERUTA_LOG_LEVEL=DEBUG): the build log's DEBUG lines reach the peers'
 * clients too. It waits up to 2 minutes after the script exits for its lines to be acknowledged
 * (KERUTA_LOG_EXIT_TIMEOUT, 10 s by default): on a loaded machine keruta-api may be more than
 * 10 s behind a burst, and the agent would exit keeping the rest in its spool, which the bench
 * would count as lost.
 */
export function runAgent({ cli, server, taskId, script, args = [], env = {}, nodeArgs = [] }) {
  const spoolDir = mkdtempSync(join(tmpdir(), 'keruta-bench-spool-'));
  const child = spawn(process.execPath, [...nodeArgs, cli, 'execute', '--task-id', taskId, '--script', script, '--spool-dir', spoolDir, '--', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      KERUTA_WEBSOCKET_URL: server.wsUrl,
      KERUTA_API_URL: server.apiUrl,
      KERUTA_LOG_LEVEL: 'DEBUG',
      KERUTA_LOG_EXIT_TIMEOUT: '2m',
      ...env,
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    pid: child.pid,
    exited,
    get stderr() {
      return stderr;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(spoolDir, { recursive: true, force: true });
    },
  };
}

/**
 * The agent's stand-in: the task script's lines sent with `writeLines` (batches of 1,000,
 * acknowledged), stamped when each line is made.
 */
export function writeScriptLines({ server, taskId, total }) {
  return writeLines({
    wsUrl: server.wsUrl,
    taskId,
    total,
    batchSize: 1000,
    messageOf: (n) => buildLogLine(n, process.hrtime.bigint(), LINE_BYTES),
  });
}

/**
 * A subscriber on `taskId` (batch frames unless `batch: false`) that hands every stdout entry's
 * message to `tally.take`, stamped with the arrival time of its frame. Like keruta-client, it
 * resumes with `since` (the last seq it saw) when the server closes it, e.g. with SLOW_CONSUMER.
 * Resolves once first subscribed.
 */
/**
 * The bench's subscribers share one process, so a batch frame that many of them receive (every
 * live batch, serialised once by the server) is decoded and parsed once here, known by its length
 * and its first bytes (which hold its first entry's id); each subscriber still receives its own
 * copy off its own socket. In real use every subscriber is its own browser, parsing in parallel
 * on its own CPU; here they would share the bench's one core and measure the bench instead.
 */
const parsedFrames = new Map();
const PARSED_FRAMES_KEPT = 64;
const KEY_BYTES = 160;

function parseFrame(data) {
  if (data.length < 4 * KEY_BYTES) return JSON.parse(data.toString());
  const key = `${data.length}:${data.toString('latin1', 0, KEY_BYTES)}`;
  let message = parsedFrames.get(key);
  if (message === undefined) {
    message = JSON.parse(data.toString());
    if (message.type === 'logs') {
      parsedFrames.set(key, message);
      if (parsedFrames.size > PARSED_FRAMES_KEPT) parsedFrames.delete(parsedFrames.keys().next().value);
    }
  }
  return message;
}

export async function subscribeLines({ wsUrl, taskId, tally, batch = true }) {
  let lastSeq = 0;
  let closed = false;
  let ws;
  const state = { resumes: 0, errors: [] };
  const onEntry = (entry, arrived) => {
    if (entry.seq <= lastSeq) return;
    lastSeq = entry.seq;
    if (entry.source === 'stdout') tally.take(entry.message, arrived);
  };
  const open = (since) =>
    new Promise((resolve, reject) => {
      ws = new WebSocket(`${wsUrl}/${taskId}`);
      ws.on('message', (data) => {
        const arrived = nowMs();
        const message = parseFrame(data);
        if (message.type === 'logs') {
          for (const entry of message.entries) onEntry(entry, arrived);
        } else if (message.type === 'log') {
          onEntry(message, arrived);
        } else if (message.type === 'subscribed') {
          resolve();
        } else if (message.type === 'error') {
          state.errors.push(message.code);
        }
      });
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'subscribe', taskId, options: { batch, realtime: true, ...(since > 0 ? { since } : {}) } })));
      ws.once('close', () => {
        if (closed) return;
        state.resumes += 1;
        setTimeout(() => open(lastSeq).catch(() => undefined), 50);
      });
    });
  await open(0);
  return {
    /** Times the server closed this subscriber and it resumed with `since`. */
    get resumes() {
      return state.resumes;
    },
    get errors() {
      return state.errors;
    },
    close: () => {
      closed = true;
      ws.close();
    },
  };
}
