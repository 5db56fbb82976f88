// During a burst of output the reading thread is SCHED_BATCH and the agent's other threads
// SCHED_IDLE (where util-linux's chrt is there and the way back is allowed), back at the normal
// policy soon after it; where the way back is not allowed the other threads are at nice 19 for the
// whole run. The script keeps the normal policy at nice 0 throughout. Read from /proc, as the
// kernel sees it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { makeTempDir, waitUntil, type TempDir } from '@keruta/testing/base';
import { mayLeaveIdle } from '../src/run/priority.js';
import { AGENT_CLI, cleanEnv, writeScript } from './helpers.js';

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
const SCHED_IDLE = 5;
const HAS_CHRT = spawnSync('chrt', ['--help'], { stdio: 'ignore' }).status === 0;
/** What the agent will do here: SCHED_IDLE in a burst where it may leave it again, else nice 19 throughout. */
const MAY_LEAVE_IDLE = process.platform === 'linux' && mayLeaveIdle(readFileSync('/proc/self/status', 'utf8'), readFileSync('/proc/self/limits', 'utf8'));
const IDLE_IN_BURST = HAS_CHRT && MAY_LEAVE_IDLE;
const OTHERS_NICE = MAY_LEAVE_IDLE ? 0 : 19;

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

const quietOther = (s: Scheduling | undefined): boolean => s?.nice === OTHERS_NICE && s.policy === SCHED_OTHER;

describe('mayLeaveIdle', () => {
  const limits = (nice: string): string => `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${nice}                    ${nice}\n`;
  it('is true with CAP_SYS_NICE (bit 23) or an RLIMIT_NICE that allows nice 0 (20), false for a plain user', () => {
    expect(mayLeaveIdle('Name:\tnode\nCapEff:\t000001fffeffffff\n', limits('0'))).toBe(true);
    expect(mayLeaveIdle('CapEff:\t0000000000800000\n', limits('0'))).toBe(true);
    expect(mayLeaveIdle('CapEff:\t0000000000000000\n', limits('0'))).toBe(false);
    expect(mayLeaveIdle('CapEff:\t00000000007fffff\n', limits('0'))).toBe(false);
    expect(mayLeaveIdle('CapEff:\t0000000000000000\n', limits('19'))).toBe(false);
    expect(mayLeaveIdle('CapEff:\t0000000000000000\n', limits('20'))).toBe(true);
    expect(mayLeaveIdle('CapEff:\t0000000000000000\n', limits('unlimited'))).toBe(true);
    expect(mayLeaveIdle('', '')).toBe(false);
  });
});

describe.skipIf(process.platform !== 'linux')('CPU priority while the script runs', () => {
  it('puts the script first during a burst: the reading thread SCHED_BATCH, the other threads SCHED_IDLE, all back after it', async () => {
    const pidFile = join(temp.path, 'script.pid');
    const go = join(temp.path, 'go');
    const burstGo = join(temp.path, 'burst');
    // Quiet until told, then 200 MB as fast as it goes, then quiet again until told. The lines are
    // INFO and only ERROR is streamed: the intake takes them all, the spool none (no GBs on disk).
    const waitFor = (file: string): string => `i=0; while [ ! -e '${file}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done\n`;
    const script = writeScript(
      temp.path,
      'wait.sh',
      `#!/bin/sh\necho $$ > '${pidFile}.tmp' && mv '${pidFile}.tmp' '${pidFile}'\necho waiting\n${waitFor(burstGo)}` +
        `head -c 200000000 /dev/zero | tr '\\0' 'x' | fold -w 99\n${waitFor(go)}echo done\n`,
    );
    const port = (silent.address() as { port: number }).port;
    const env = cleanEnv({
      KERUTA_WEBSOCKET_URL: `ws://127.0.0.1:${port}/ws/tasks`,
      KERUTA_API_URL: `http://127.0.0.1:${port}/api/v1`,
      KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool'),
      KERUTA_LOG_EXIT_TIMEOUT: '20s',
    });
    // Its output to /dev/null: 200 MB is not for the test's memory.
    const agent = spawn(process.execPath, [AGENT_CLI, 'execute', '--task-id', 'priority', '--log-level', 'ERROR', '--script', script], { env, stdio: 'ignore' });
    const exited = new Promise((resolve) => agent.once('exit', resolve));
    const agentPid = agent.pid ?? -1;
    try {
      await waitUntil(() => existsSync(pidFile), 'the script started', 10_000);
      const scriptPid = Number(readFileSync(pidFile, 'utf8'));
      expect(schedulingOf(scriptPid)).toEqual({ nice: 0, policy: SCHED_OTHER });

      // Quiet output: the main thread at the normal policy (nice 19 where it could not come back).
      await waitUntil(() => quietOther(schedulingOf(agentPid)), 'the main thread at its quiet priority', 10_000);
      const normal = threadsOf(agentPid).filter((t) => t.scheduling.nice === 0 && t.scheduling.policy === SCHED_OTHER);
      expect(normal.length).toBeGreaterThanOrEqual(1);

      // A burst: one thread (the reading one, not the main thread) SCHED_BATCH at nice 0 and the main thread SCHED_IDLE while it lasts.
      writeFileSync(burstGo, '');
      if (HAS_CHRT) {
        await waitUntil(
          () => threadsOf(agentPid).some((t) => t.scheduling.policy === SCHED_BATCH) && schedulingOf(agentPid)?.policy === (IDLE_IN_BURST ? SCHED_IDLE : SCHED_OTHER),
          'the burst policies',
          20_000,
        );
        const batch = threadsOf(agentPid).filter((t) => t.scheduling.policy === SCHED_BATCH);
        expect(batch.map((t) => t.scheduling.nice)).toEqual([0]);
        expect(batch[0]?.tid).not.toBe(agentPid);
      }
      // Both back after it.
      await waitUntil(() => quietOther(schedulingOf(agentPid)) && !threadsOf(agentPid).some((t) => t.scheduling.policy === SCHED_BATCH), 'the policies after the burst', 30_000);

      writeFileSync(go, '');
      // The script is gone; the agent waits for acknowledgements that never come, at the normal policy.
      await waitUntil(() => !existsSync(`/proc/${scriptPid}`) || readFileSync(`/proc/${scriptPid}/stat`, 'utf8').includes(') Z'), 'the script exited', 30_000);
      // (It may still be ending the burst it was in when the script exited: wait for it, do not sample once.)
      await waitUntil(() => quietOther(schedulingOf(agentPid)), 'the main thread back at its quiet priority', 10_000);
      expect(agent.exitCode).toBeNull();
    } finally {
      agent.kill('SIGKILL');
      await exited;
    }
  });
});
