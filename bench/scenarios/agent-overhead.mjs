// agent-overhead: what keruta-agent costs the task it runs. The bench's task script prints
// 1,000,000 lines of 100 bytes (quick: 100,000) to /dev/null; then through a pipe into `cat`
// (the floor for any reader of a pipe); then under keruta-agent with streaming off (reading and
// echoing only); then under keruta-agent streaming to a live keruta-api (agent stdout to
// /dev/null, as a CI runner's would be). Side by side: the script's own run time, and the
// agent's until every line is stored and acknowledged. Then a 50 MB burst for the agent's peak
// RSS (VmHWM from /proc).
// Run alone: node bench/scenarios/agent-overhead.mjs [--quick]   (needs `npm run build` first)
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnServer } from '@keruta/testing';
import { findAgentCli } from '../lib/keruta.mjs';
import { MB, ratioRow, round, row } from '../lib/measure.mjs';
import { LINE_BYTES, createTaskScript } from '../lib/script.mjs';

const SCENARIO = 'agent-overhead';
const BURST_BYTES = 50 * 1000 * 1000;

/** Peak resident set so far (VmHWM), in bytes; 0 once the process is gone. */
function peakRssOf(pid) {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Runs `command args` with stdout to /dev/null; resolves with its wall time and peak RSS. */
function timed(command, args, env = process.env) {
  const devNull = openSync('/dev/null', 'w');
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', devNull, 'pipe'], env });
  closeSync(devNull);
  let stderr = '';
  let peak = 0;
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const sampler = setInterval(() => (peak = Math.max(peak, peakRssOf(child.pid))), 10);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearInterval(sampler);
      resolve({ ms: performance.now() - started, code, stderr, peakRss: peak });
    });
  });
}

async function json(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.json();
}

export async function run({ quick = false, serverUrl } = {}) {
  const total = quick ? 100_000 : 1_000_000;
  const burstLines = Math.round(BURST_BYTES / LINE_BYTES);
  const cli = findAgentCli();
  if (cli === undefined) return [row(SCENARIO, 'keruta-agent not built', 'n/a', '', { pass: false })];
  const script = createTaskScript();
  const spoolDir = mkdtempSync(join(tmpdir(), 'keruta-bench-agent-spool-'));
  const server = serverUrl === undefined ? await spawnServer() : undefined;
  const base = (serverUrl ?? server.baseUrl).replace(/\/+$/, '');
  const apiUrl = `${base}/api/v1`;
  const env = {
    ...process.env,
    KERUTA_WEBSOCKET_URL: `${base.replace(/^http/, 'ws')}/ws/tasks`,
    KERUTA_API_URL: apiUrl,
    KERUTA_LOG_SPOOL_DIR: spoolDir,
    // Wait as long as it takes: the measure is until every line is stored.
    KERUTA_LOG_EXIT_TIMEOUT: '10m',
  };
  const agent = (taskId, lines) => timed(process.execPath, [cli, 'execute', '--task-id', taskId, '--script', script.path, '--', String(lines)], env);
  const stamp = Date.now();
  const bestOf2 = async (command, args, options) => Math.min((await timed(command, args, options)).ms, (await timed(command, args, options)).ms);
  try {
    const alone = await bestOf2(script.path, [String(total)]);
    const throughCat = await bestOf2('sh', ['-c', `'${script.path}' ${total} | cat`]);
    const offline = await bestOf2(process.execPath, [cli, 'execute', '--task-id', 'offline', '--script', script.path, '--disable-log-streaming', '--', String(total)], env);

    const taskId = `agent-overhead-${stamp}`;
    const streamed = await agent(taskId, total);
    if (streamed.code !== 0) throw new Error(`keruta-agent exited with ${streamed.code}: ${streamed.stderr}`);
    const summary = await json(`${apiUrl}/tasks/${taskId}`);
    const events = await json(`${apiUrl}/tasks/${taskId}/logs?source=agent&size=100`);
    const exited = events.content.find((e) => e.metadata?.event === 'exited');
    const scriptMs = exited?.metadata?.durationMs;
    const missing = total + 2 - summary.totalLogs;

    const burst = await agent(`agent-burst-${stamp}`, burstLines);
    if (burst.code !== 0) throw new Error(`keruta-agent (burst) exited with ${burst.code}: ${burst.stderr}`);

    return [
      row(SCENARIO, `${total} lines of ${LINE_BYTES} B, script to /dev/null (best of 2)`, round(alone, 0), 'ms'),
      row(SCENARIO, 'same script | cat > /dev/null (best of 2): the floor through a pipe', round(throughCat, 0), 'ms'),
      row(SCENARIO, 'same script under keruta-agent --disable-log-streaming (best of 2)', round(offline, 0), 'ms'),
      row(SCENARIO, 'same script under keruta-agent: the script\'s own run time', scriptMs === undefined ? 'n/a' : round(scriptMs, 0), 'ms'),
      ratioRow(SCENARIO, 'script run time under the agent / to /dev/null', scriptMs, alone, { limit: 1.3 }),
      row(SCENARIO, 'keruta-agent until every line is stored and acknowledged', round(streamed.ms, 0), 'ms'),
      ratioRow(SCENARIO, 'agent wall time until all stored / script to /dev/null', streamed.ms, alone, { limit: 1.3 }),
      ratioRow(SCENARIO, 'agent wall time until all stored / script | cat', streamed.ms, throughCat),
      row(SCENARIO, 'delivery rate (agent → keruta-api → SQLite, acked)', Math.round(total / (streamed.ms / 1000)), 'lines/s'),
      row(SCENARIO, 'entries missing or extra on the server', missing, 'entries', { target: '0', pass: missing === 0 }),
      row(SCENARIO, `keruta-agent peak RSS, ${BURST_BYTES / 1e6} MB burst (${burstLines} lines)`, round(burst.peakRss / MB, 1), 'MB', {
        target: '< 80 MB',
        pass: burst.peakRss > 0 && burst.peakRss < 80 * MB,
      }),
      row(SCENARIO, `keruta-agent peak RSS, ${total} lines`, round(streamed.peakRss / MB, 1), 'MB'),
    ];
  } finally {
    await server?.stop();
    script.remove();
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
