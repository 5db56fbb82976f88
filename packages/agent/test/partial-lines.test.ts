// The line a script is still writing, end to end: a real keruta-agent running a real script,
// streaming to a real keruta-api, watched by a subscriber that asked for `partial` messages.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, makeTempDir, spawnServer, type RecordingClient, type SpawnedServer, type TempDir } from '@keruta/testing';
import type { LogEntry, PartialMessage } from '@keruta/protocol';
import { cleanEnv, fetchAllLogs, runAgent, writeScript } from './helpers.js';

let server: SpawnedServer;
let temp: TempDir;
let env: Record<string, string>;

beforeAll(async () => {
  temp = await makeTempDir('keruta-agent-partial-');
  server = await spawnServer();
  env = cleanEnv({ KERUTA_WEBSOCKET_URL: server.wsUrl, KERUTA_API_URL: server.apiUrl, KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool') });
});

afterAll(async () => {
  await server.stop();
  await temp.remove();
});

async function watch(taskId: string): Promise<RecordingClient> {
  const client = await connectClient(`${server.wsUrl}/${taskId}`);
  client.send({ type: 'subscribe', options: { batch: true, partial: true } });
  await client.waitFor((m) => m.type === 'subscribed');
  return client;
}

/** The partial frames and the stdout entries, in the order the watcher got them. */
type Frame = { kind: 'partial'; message: PartialMessage } | { kind: 'line'; entry: LogEntry };

function stdoutFrames(client: RecordingClient): Frame[] {
  return client.messages.flatMap((m): Frame[] => {
    if (m.type === 'partial') return [{ kind: 'partial', message: m }];
    if (m.type === 'logs') return m.entries.filter((e) => e.source === 'stdout').map((entry): Frame => ({ kind: 'line', entry }));
    return [];
  });
}

describe('partial lines from a real agent', () => {
  it('shows a progress bar moving before its line is stored once, as "progress 100%"', async () => {
    await using watcher = await watch('bar');
    const script = writeScript(temp.path, 'bar.sh', "#!/bin/sh\nprintf 'progress 10%%'; sleep 0.5; printf '\\rprogress 50%%'; sleep 0.5; printf '\\rprogress 100%%\\n'\n");
    const run = await runAgent(['execute', '--task-id', 'bar', '--script', script], env);
    expect(run.status).toBe(0);
    await watcher.waitFor((m) => m.type === 'logs' && m.entries.some((e) => e.source === 'stdout'));
    const frames = stdoutFrames(watcher);
    const firstLine = frames.findIndex((f) => f.kind === 'line');
    const partials = frames.slice(0, firstLine).flatMap((f) => (f.kind === 'partial' ? [f.message] : []));
    console.log(`partials before the stored line: ${partials.map((p) => JSON.stringify(p.text)).join(', ')}`);
    expect(partials.length).toBeGreaterThanOrEqual(1);
    const stored = (await fetchAllLogs(server.apiUrl, 'bar')).filter((e) => e.source === 'stdout');
    expect(stored.map((e) => e.message)).toEqual(['progress 100%']);
    for (const partial of partials) {
      expect(['progress 10%', 'progress 50%']).toContain(partial.text);
      expect(partial).toMatchObject({ taskId: 'bar', source: 'stdout', lineNumber: 1, runId: stored[0]?.runId });
    }
    // One message per state: the same text is not sent again.
    expect(new Set(partials.map((p) => p.text)).size).toBe(partials.length);
  });

  it('sends a fast bar\'s line at most every 100 ms, each message a newer state', async () => {
    await using watcher = await watch('fast-bar');
    const script = writeScript(
      temp.path,
      'fast-bar.mjs',
      "#!/usr/bin/env node\nlet i = 0;\nconst timer = setInterval(() => {\n  process.stdout.write(`\\rprogress ${++i}`);\n  if (i === 300) { clearInterval(timer); process.stdout.write('\\n'); }\n}, 5);\n",
    );
    const run = await runAgent(['execute', '--task-id', 'fast-bar', '--script', script], env);
    expect(run.status).toBe(0);
    await watcher.waitFor((m) => m.type === 'logs' && m.entries.some((e) => e.source === 'stdout'));
    const partials = watcher.messages.filter((m): m is PartialMessage => m.type === 'partial');
    const gaps = partials.slice(1).map((p, i) => Date.parse(p.timestamp) - Date.parse(partials[i]?.timestamp ?? ''));
    console.log(`a bar rewritten every 5 ms for ~1.5 s: ${partials.length} partials, gaps ${gaps.join(', ')} ms`);
    expect(partials.length).toBeGreaterThanOrEqual(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(100);
    const counts = partials.map((p) => Number(p.text.replace('progress ', '')));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(new Set(counts).size).toBe(counts.length);
    expect(watcher.entries.filter((e) => e.source === 'stdout').map((e) => e.message)).toEqual(['progress 300']);
  });

  it('sends no partial for ordinary lines, however their reads fall', async () => {
    await using watcher = await watch('plain');
    const script = writeScript(temp.path, 'plain.sh', '#!/bin/sh\ni=0\nwhile [ $i -lt 3000 ]; do echo "line $i of the ordinary output"; i=$((i+1)); done\n');
    const run = await runAgent(['execute', '--task-id', 'plain', '--script', script], env);
    expect(run.status).toBe(0);
    await watcher.waitFor((m) => m.type === 'logs' && m.entries.some((e) => e.source === 'agent' && e.metadata.event === 'exited'), 30_000);
    expect(watcher.entries.filter((e) => e.source === 'stdout')).toHaveLength(3000);
    expect(watcher.messages.filter((m) => m.type === 'partial')).toEqual([]);
  });

  it('masks filters.excludePatterns in a partial line before it leaves the machine, and never sends the piece the reading thread holds unmasked', async () => {
    await using watcher = await watch('secret-bar');
    const config = join(temp.path, 'filters.yaml');
    writeFileSync(config, 'filters:\n  excludePatterns:\n    - "password=\\\\S+"\n');
    // Each "\r" ends a piece the reading thread masks and journals; the piece after the last one
    // stays in its memory, where no watcher sees it, until the line ends.
    const script = writeScript(
      temp.path,
      'secret-bar.sh',
      "#!/bin/sh\nprintf 'login password=hunter2 step 1\\r'; sleep 0.6; printf 'login password=hunter2 step 2'; sleep 0.6; printf ' ok\\n'\n",
    );
    const run = await runAgent(['execute', '--task-id', 'secret-bar', '--script', script, '--config', config], env);
    expect(run.status).toBe(0);
    await watcher.waitFor((m) => m.type === 'logs' && m.entries.some((e) => e.source === 'stdout'));
    const partials = watcher.messages.filter((m): m is PartialMessage => m.type === 'partial');
    expect(partials.map((p) => p.text)).toEqual(['login [REDACTED] step 1']);
    expect(JSON.stringify(watcher.messages)).not.toContain('hunter2');
    expect(watcher.entries.filter((e) => e.source === 'stdout').map((e) => e.message)).toEqual(['login [REDACTED] step 2 ok']);
  });
});
