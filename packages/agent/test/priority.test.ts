// While the script runs, every thread of the agent but the reading one steps aside (SCHED_IDLE
// where util-linux's chrt is there, nice 19 at least); the script keeps the normal policy at nice
// 0, and so does the reading thread, as SCHED_BATCH (it does not cut the script's time slices
// short); once the script has exited, the agent is back at the normal policy to deliver what is
// left. Read from /proc, as the kernel sees it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { makeTempDir, type TempDir } from '@keruta/testing';
import { cleanEnv, startAgent, waitUntil, writeScript } from './helpers.js';

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
const SCHED_IDLE = 5;
const HAS_CHRT = spawnSync('chrt', ['--help'], { stdio: 'ignore' }).status === 0;

let temp: TempDir;
let silent: WebSocketServer;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-priority-');
  // Takes the batches and never answers: the agent then waits out its exit timeout, which leaves
  // time to look at it after the script has exited.
  silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
  silent.on('connection', (socket) => socket.on('message', () => undefined));
});

afterAll(async () => {
  for (const client of silent.clients) client.terminate();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await temp.remove();
});

interface Scheduling {
  readonly nice: number;
  readonly policy: number;
}

/** Nice value (field 19) and policy (field 41) of /proc/PID/task/TID/stat; the name before them may hold spaces. */
function schedulingOf(pid: number, tid = pid): Scheduling | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { nice: Number(fields[19 - 3]), policy: Number(fields[41 - 3]) };
  } catch {
    // The thread has just ended.
    return undefined;
  }
}

function threadsOf(pid: number): { tid: number; scheduling: Scheduling }[] {
  return readdirSync(`/proc/${pid}/task`)
    .map(Number)
    .map((tid) => ({ tid, scheduling: schedulingOf(pid, tid) }))
    .filter((t): t is { tid: number; scheduling: Scheduling } => t.scheduling !== undefined);
}

const steppedAside = (s: Scheduling): boolean => (HAS_CHRT ? s.policy === SCHED_IDLE : s.nice === 19);

describe.skipIf(process.platform !== 'linux')('CPU priority while the script runs', () => {
  it('leaves the script at the normal priority and the reading thread at its nice value as SCHED_BATCH, puts every other thread of the agent aside, and restores the policy once the script is done', async () => {
    const pidFile = join(temp.path, 'script.pid');
    const go = join(temp.path, 'go');
    const script = writeScript(
      temp.path,
      'wait.sh',
      `#!/bin/sh\necho $$ > '${pidFile}.tmp' && mv '${pidFile}.tmp' '${pidFile}'\necho waiting\n` +
        `i=0; while [ ! -e '${go}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done\necho done\n`,
    );
    const port = (silent.address() as { port: number }).port;
    const env = cleanEnv({
      KERUTA_WEBSOCKET_URL: `ws://127.0.0.1:${port}/ws/tasks`,
      KERUTA_API_URL: `http://127.0.0.1:${port}/api/v1`,
      KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool'),
      KERUTA_LOG_EXIT_TIMEOUT: '20s',
    });
    const agent = startAgent(['execute', '--task-id', 'priority', '--script', script], env);
    const agentPid = agent.child.pid ?? -1;
    try {
      await waitUntil(() => existsSync(pidFile), 10_000, 'the script started');
      const scriptPid = Number(readFileSync(pidFile, 'utf8'));
      expect(schedulingOf(scriptPid)).toEqual({ nice: 0, policy: SCHED_OTHER });

      // The agent's threads step aside just after the script starts.
      await waitUntil(() => threadsOf(agentPid).filter((t) => !steppedAside(t.scheduling)).length === 1, 10_000, 'the agent stepped aside');
      const normal = threadsOf(agentPid).filter((t) => !steppedAside(t.scheduling));
      // The one left is the reading thread, at the script's own priority; the main thread is aside.
      await waitUntil(() => schedulingOf(agentPid, normal[0]?.tid)?.policy === (HAS_CHRT ? SCHED_BATCH : SCHED_OTHER), 10_000, 'the reading thread at SCHED_BATCH');
      expect(schedulingOf(agentPid, normal[0]?.tid)?.nice).toBe(0);
      expect(normal[0]?.tid).not.toBe(agentPid);
      expect(steppedAside(schedulingOf(agentPid) ?? { nice: 0, policy: SCHED_OTHER })).toBe(true);

      writeFileSync(go, '');
      // The script is gone; the agent waits for acknowledgements that never come, at the normal policy.
      await waitUntil(() => !existsSync(`/proc/${scriptPid}`) || readFileSync(`/proc/${scriptPid}/stat`, 'utf8').includes(') Z'), 10_000, 'the script exited');
      await waitUntil(() => schedulingOf(agentPid)?.policy === SCHED_OTHER && agent.child.exitCode === null, 10_000, 'the agent back at the normal policy');
      expect(schedulingOf(agentPid)?.nice).toBe(19);
    } finally {
      agent.child.kill('SIGKILL');
      await agent.done;
    }
  });
});
