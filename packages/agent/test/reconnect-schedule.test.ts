import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing/base';
import { createAgentLog } from '../src/agent-log.js';
import { createReconnectSchedule } from '../src/deliver/reconnect-schedule.js';

const temp = await makeTempDir('keruta-agent-reconnect-');
afterAll(() => temp.remove());
let logs = 0;

const lost = { code: 'NETWORK', message: 'ECONNREFUSED' };

/** A schedule whose reconnections are counted and whose messages go to a file (the agent's own log, as JSON lines). */
function newSchedule(maxReconnectAttempts: number): { schedule: ReturnType<typeof createReconnectSchedule>; reconnects: () => number; messages: () => string[] } {
  const output = join(temp.path, `agent-${++logs}.log`);
  let reconnects = 0;
  const schedule = createReconnectSchedule({
    taskId: 'task-1',
    websocket: { url: 'ws://127.0.0.1:9/ws/tasks', timeoutMs: 1000, reconnectIntervalMs: 20, maxReconnectAttempts },
    log: createAgentLog({ verbose: true, format: 'json', output }),
    reconnect: () => reconnects++,
  });
  const messages = (): string[] =>
    readFileSync(output, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
  return { schedule, reconnects: () => reconnects, messages };
}

describe('reconnect schedule', () => {
  it('connects again after a backoff, once however many failures came in between', async () => {
    const { schedule, reconnects, messages } = newSchedule(0);
    expect(schedule.after(lost)).toBe('waiting');
    expect(schedule.after(lost)).toBe('waiting');
    expect(schedule.attempts).toBe(2);
    await sleep(300);
    expect(reconnects()).toBe(1);
    expect(messages()[0]).toMatch(/^NETWORK: ECONNREFUSED; retrying in \d+ ms$/);
  });

  it('gives up after websocket.maxReconnectAttempts failed attempts in a row, and counts from 0 again after reset', () => {
    const { schedule, messages } = newSchedule(3);
    expect([schedule.after(lost), schedule.after(lost), schedule.after(lost)]).toEqual(['waiting', 'waiting', 'gave-up']);
    expect(messages().at(-1)).toBe('giving up on keruta-api after 3 failed attempts (NETWORK: ECONNREFUSED); lines stay in the spool');
    schedule.cancel();
    schedule.reset();
    expect(schedule.after(lost)).toBe('waiting');
    expect(schedule.attempts).toBe(1);
    schedule.cancel();
  });

  it('does not count a wait the refusal asks for as an attempt', () => {
    const { schedule } = newSchedule(1);
    expect(schedule.after({ code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' }, 50)).toBe('waiting');
    expect(schedule.attempts).toBe(0);
    schedule.cancel();
  });

  it('gives up at once on a final refusal and keeps it as the reason', async () => {
    const { schedule, reconnects, messages } = newSchedule(0);
    const refused = { code: 'UNAUTHORIZED', message: 'no such API key' };
    expect(schedule.after(refused)).toBe('gave-up');
    expect(schedule.refusal).toEqual(refused);
    expect(messages()).toEqual(['keruta-api refused the lines of task task-1: UNAUTHORIZED: no such API key; they stay in the spool']);
    await sleep(100);
    expect(reconnects()).toBe(0);
  });

  it('no longer connects again once cancelled', async () => {
    const { schedule, reconnects } = newSchedule(0);
    schedule.after(lost, 30);
    schedule.cancel();
    await sleep(100);
    expect(reconnects()).toBe(0);
  });
});
