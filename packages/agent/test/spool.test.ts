import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing/base';
import { listSpooledRuns } from '../src/run/run-directory.js';
import { claimRun, createRunSpool, type RunSpool } from '../src/deliver/spool.js';

const temp = await makeTempDir('keruta-agent-spool-');
afterAll(() => temp.remove());

const FRAME = { head: Buffer.from('['), tail: Buffer.from(']') };
let runs = 0;

function newRun(taskId = 'task-1'): { spool: RunSpool; dir: string } {
  const dir = join(temp.path, `spool-${++runs}`);
  const spool = createRunSpool(dir, { taskId, runId: `run-${runs}`, createdAt: new Date(Date.now() + runs).toISOString() });
  return { spool, dir };
}

function records(from: number, to: number): Buffer {
  let text = '';
  for (let seq = from; seq <= to; seq++) text += `${JSON.stringify({ message: `line ${seq}`, runSeq: seq })}\n`;
  return Buffer.from(text);
}

function readAll(spool: RunSpool, from = 1, max = 1000): { runSeq: number }[] {
  const batch = spool.read(from, max, 1024 * 1024, FRAME);
  if (batch === undefined) return [];
  return JSON.parse(batch.body.toString()) as { runSeq: number }[];
}

describe('spool', () => {
  it('gives back what was appended, as framed batches from any position', () => {
    const { spool } = newRun();
    expect(spool.append(records(1, 5), 5)).toEqual({ ok: true });
    expect(readAll(spool).map((e) => e.runSeq)).toEqual([1, 2, 3, 4, 5]);
    expect(readAll(spool, 3).map((e) => e.runSeq)).toEqual([3, 4, 5]);
    const two = spool.read(2, 2, 1024, FRAME);
    expect(two).toMatchObject({ firstSeq: 2, lastSeq: 3, count: 2 });
    expect(spool.read(6, 10, 1024, FRAME)).toBeUndefined();
  });

  it('limits a batch by bytes but always returns at least one entry', () => {
    const { spool } = newRun();
    spool.append(records(1, 100), 100);
    const small = spool.read(1, 1000, 100, FRAME);
    expect(small?.count).toBeGreaterThanOrEqual(1);
    expect(small?.count).toBeLessThan(100);
    const tiny = spool.read(1, 1000, 5, FRAME);
    expect(tiny?.count).toBe(1);
  });

  it('reuses a buffer it is given when the batch fits', () => {
    const { spool } = newRun();
    spool.append(records(1, 3), 3);
    const reuse = Buffer.alloc(4096);
    const batch = spool.read(1, 10, 4096, FRAME, reuse);
    expect(batch?.buffer).toBe(reuse);
    expect(JSON.parse(batch?.body.toString() ?? '')).toHaveLength(3);
  });

  it('deletes the run once it is sealed and everything is acknowledged', () => {
    const { spool, dir } = newRun();
    spool.append(records(1, 3), 3);
    spool.acknowledge(2);
    spool.seal();
    expect(spool.close()).toBe(1);
    const again = claimRun(spool.dir);
    expect(again?.ackedSeq).toBe(2);
    expect(readAll(again as RunSpool, (again?.ackedSeq ?? 0) + 1).map((e) => e.runSeq)).toEqual([3]);
    again?.acknowledge(3);
    expect(again?.close()).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('ignores a torn last record left by a kill -9, and a dead agent\'s lock, and recovers the rest', () => {
    const { spool } = newRun();
    spool.append(records(1, 4), 4);
    const segment = readdirSync(spool.dir).find((name) => name.endsWith('.jsonl')) as string;
    appendFileSync(join(spool.dir, segment), '{"message":"line 5","ru');
    spool.close();
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(join(spool.dir, `lock.${deadPid}.1`), '');
    const recovered = claimRun(spool.dir);
    expect(recovered).toBeDefined();
    expect(recovered?.lastSeq).toBe(4);
    expect(readAll(recovered as RunSpool).map((e) => e.runSeq)).toEqual([1, 2, 3, 4]);
    expect(readFileSync(join(spool.dir, segment), 'utf8').endsWith('}\n')).toBe(true);
    expect(existsSync(join(spool.dir, `lock.${deadPid}.1`))).toBe(false);
  });

  it('recovers a run of several segments, reading back every entry in order', () => {
    const { spool } = newRun();
    const pad = 'p'.repeat(900);
    let total = 0;
    for (let round = 0; round < 12; round++) {
      let text = '';
      for (let i = 0; i < 1000; i++) text += `${JSON.stringify({ runSeq: ++total, pad })}\n`;
      spool.append(Buffer.from(text), 1000);
    }
    const segments = readdirSync(spool.dir).filter((name) => name.endsWith('.jsonl')).sort();
    expect(segments.length).toBeGreaterThan(1);
    appendFileSync(join(spool.dir, segments.at(-1) as string), '{"runSeq":');
    spool.close();
    const recovered = claimRun(spool.dir) as RunSpool;
    expect(recovered.lastSeq).toBe(total);
    const seen: number[] = [];
    for (let seq = 1; seq <= recovered.lastSeq; ) {
      const batch = recovered.read(seq, 5000, 1024 * 1024, FRAME);
      if (batch === undefined) break;
      for (const entry of JSON.parse(batch.body.toString()) as { runSeq: number }[]) seen.push(entry.runSeq);
      seq = batch.lastSeq + 1;
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    recovered.acknowledge(total);
    expect(recovered.close()).toBe(0);
  });

  it('will not hand a run to a second owner while a live process holds it', () => {
    const { spool } = newRun();
    spool.append(records(1, 1), 1);
    spool.close();
    // Another live agent: the test runner's parent process stands in as the owner.
    writeFileSync(join(spool.dir, `lock.${process.ppid}.-`), '');
    expect(claimRun(spool.dir)).toBeUndefined();
  });

  it('lists runs oldest first and removes directories of agents that died before writing run.json', () => {
    const dir = join(temp.path, 'listing');
    const first = createRunSpool(dir, { taskId: 'a', runId: 'r1', createdAt: '2026-01-01T00:00:00.000Z' });
    const second = createRunSpool(dir, { taskId: 'b', runId: 'r2', createdAt: '2026-01-02T00:00:00.000Z' });
    first.close();
    second.close();
    const abandoned = join(dir, 'c~r3');
    spawnSync('mkdir', ['-p', abandoned]);
    expect(listSpooledRuns(dir).map((r) => r.info.runId)).toEqual(['r1', 'r2']);
    expect(existsSync(abandoned)).toBe(false);
  });
});
