// The agent's memory stays bounded however fast the script prints: what the processing has not
// caught up with waits in the intake journal on disk, never in memory (issue 4: < 80 MB of RSS
// while a script prints 50 MB as fast as it can).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, spawnServer, type TempDir } from '@keruta/testing';
import { cleanEnv, startAgent, writeScript } from './helpers.js';

const MB = 1024 * 1024;
const LINES = 500_000;
let temp: TempDir;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-memory-');
});
afterAll(() => temp.remove());

/** Peak resident set (VmHWM, all threads) of a live process, in bytes; 0 once it is gone. */
function peakRssOf(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    // The process has exited between two samples.
    return 0;
  }
}

describe('memory', () => {
  it('stays under 80 MB of RSS while a script prints 50 MB as fast as it can, and delivers every line', async () => {
    await using server = await spawnServer();
    // 500,000 lines of 100 bytes, in awk's 4 KiB writes.
    const script = writeScript(
      temp.path,
      'burst.sh',
      `#!/bin/sh\nawk 'BEGIN { pad = sprintf("%091d", 0); gsub(/0/, "x", pad); for (i = 1; i <= ${LINES}; i++) printf "%07d %s\\n", i, pad }'\n`,
    );
    const env = cleanEnv({
      KERUTA_WEBSOCKET_URL: server.wsUrl,
      KERUTA_API_URL: server.apiUrl,
      KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool'),
      KERUTA_LOG_EXIT_TIMEOUT: '120s',
    });
    const agent = startAgent(['execute', '--task-id', 'burst-memory', '--script', script], env);
    const pid = agent.child.pid as number;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, peakRssOf(pid))), 10);
    const run = await agent.done;
    clearInterval(sampler);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.length).toBe(LINES * 100);
    console.log(`agent peak RSS during a ${(LINES * 100) / 1e6} MB burst: ${(peak / MB).toFixed(1)} MB`);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(80 * MB);
    const summary = (await (await fetch(`${server.apiUrl}/tasks/burst-memory`)).json()) as { totalLogs: number };
    // The script's lines, `started` and `exited`.
    expect(summary.totalLogs).toBe(LINES + 2);
  });
});
