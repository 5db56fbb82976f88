// A server that takes the connection and the batches but never acknowledges them. keruta-api
// never does this, so a tiny ws server stands in for it: the misbehaviour is the thing under test.
// The script must not notice, and every line must be waiting in the spool when the agent exits.
// How fast a script runs under the agent is measured by the bench (agent-overhead, with this same
// never-acknowledging stand-in), not asserted here: a timed test only measures its neighbours.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { makeTempDir, type TempDir } from '@keruta/testing/base';
import { cleanEnv, countLossAndDuplicates, runAgent, writeScript } from './helpers.js';

const LINES = 200_000;
let temp: TempDir;
let silent: WebSocketServer;
const frames: string[] = [];

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-never-ack-');
  silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
  silent.on('connection', (socket) => socket.on('message', (data) => frames.push(String(data))));
});

afterAll(async () => {
  for (const client of silent.clients) client.terminate();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await temp.remove();
});

/** Runs the script and returns how long its loop took by its own clock, in milliseconds. */
async function scriptMillis(args: string[], env: Record<string, string>, timing: string): Promise<{ ms: number; stderr: string; totalMs: number }> {
  const run = await runAgent(args, env);
  expect(run.status).toBe(0);
  return { ms: Number(readFileSync(timing, 'utf8')), stderr: run.stderr, totalMs: run.durationMs };
}

describe('a server that accepts but never acknowledges', () => {
  it('does not slow the script, and leaves every line in the spool', async () => {
    const timing = join(temp.path, 'timing');
    const script = writeScript(
      temp.path,
      'fast.sh',
      `#!/bin/bash\nstart=$(date +%s%N)\nfor ((i = 1; i <= ${LINES}; i++)); do printf 'line %d %s\\n' "$i" 'some text to make the line longer'; done\n` +
        `echo $(( ($(date +%s%N) - start) / 1000000 )) > '${timing}'\n`,
    );
    const port = (silent.address() as { port: number }).port;
    const spool = join(temp.path, 'spool');
    const env = cleanEnv({
      KERUTA_WEBSOCKET_URL: `ws://127.0.0.1:${port}/ws/tasks`,
      KERUTA_API_URL: `http://127.0.0.1:${port}/api/v1`,
      KERUTA_LOG_SPOOL_DIR: spool,
      KERUTA_WEBSOCKET_TIMEOUT: '1s',
      KERUTA_LOG_EXIT_TIMEOUT: '2s',
    });
    const args = ['execute', '--task-id', 'never-acked', '--script', script];

    // Best of two each way, so that a busy machine does not decide the comparison.
    const alone = Math.min(
      (await scriptMillis([...args, '--disable-log-streaming'], env, timing)).ms,
      (await scriptMillis([...args, '--disable-log-streaming'], env, timing)).ms,
    );
    const streamed = await scriptMillis(args, env, timing);
    const streamedAgain = await scriptMillis([...args.slice(0, 2), 'never-acked-2', ...args.slice(3)], env, timing);
    const ms = Math.min(streamed.ms, streamedAgain.ms);
    console.log(`script loop: ${alone} ms with streaming off, ${ms} ms streaming to a server that never acks (${(ms / alone).toFixed(2)}x); agent exited after ${streamed.totalMs} ms`);
    // A design that waited for acks would hold the script until the agent gave up on the server:
    // never finishing on time. A busy shared machine alone moves the ratio, so the bound is loose.
    expect(ms).toBeLessThan(alone * 3 + 2000);
    // The agent waits its exit timeout (2 s), not for ever.
    expect(streamed.totalMs).toBeLessThan(streamed.ms + 8000);

    // It did try: batches went out in the protocol's shape.
    const first = JSON.parse(frames[0] as string) as { type: string; batchId: string; entries: { runId: string; runSeq: number; source: string }[] };
    expect(first.type).toBe('logs');
    expect(first.batchId).toEqual(expect.any(String));
    expect(first.entries[0]).toMatchObject({ source: 'agent', runSeq: 1, runId: expect.any(String) });

    const kept = /(\d+) lines were not delivered to keruta-api \((.+)\); kept in (\S+);/.exec(streamed.stderr);
    expect(kept, streamed.stderr).not.toBeNull();
    const dir = kept?.[3] as string;
    const entries = readdirSync(dir)
      .filter((name) => name.endsWith('.jsonl'))
      .sort()
      .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter((line) => line !== ''))
      .map((line) => JSON.parse(line) as { source: string; message: string; runSeq: number });
    expect(entries).toHaveLength(Number(kept?.[1]));
    expect(entries.map((e) => e.runSeq)).toEqual(entries.map((_, i) => i + 1));
    const { lost, duplicated, outOfOrder } = countLossAndDuplicates(
      entries.filter((e) => e.source === 'stdout').map((e) => e.message),
      LINES,
    );
    console.log(`never acknowledged: ${entries.length} entries in the spool; lost ${lost}, duplicated ${duplicated}, out of order ${outOfOrder}`);
    expect({ lost, duplicated, outOfOrder }).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0 });
  });
});
