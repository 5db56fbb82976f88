import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing/base';
import { createIntakeWriter, INTAKE_END, INTAKE_EVENT, INTAKE_STDERR, INTAKE_STDOUT, openIntakeReader } from '../src/read/intake.js';
import { createIntakeProcessor } from '../src/process/intake-processor.js';
import { replayIntake } from '../src/process/intake-replay.js';
import type { ProcessingSettings } from '../src/process/processing-types.js';
import { saveProcessingState, unlinkQuietly } from '../src/run/run-directory.js';
import { claimRun, createRunSpool, type RunSpool } from '../src/deliver/spool.js';

const temp = await makeTempDir('keruta-agent-replay-');
afterAll(() => temp.remove());

const SETTINGS: ProcessingSettings = { minLevel: 'INFO', maxMessageLength: 200, excludePatterns: ['secret=\\S+'] };
const RUN_ID = '7d1f3a52-0c4e-4d7e-9a51-2b8f4e6c1d90';
const FRAME = { head: Buffer.from('['), tail: Buffer.from(']') };
let runs = 0;

function newRun(): RunSpool {
  return createRunSpool(join(temp.path, `spool-${++runs}`), { taskId: 'replayed', runId: RUN_ID, createdAt: '2026-01-01T00:00:00.000Z', processing: SETTINGS });
}

/**
 * What a run's reading thread journals: an event, then ~6 MB of output in odd-sized chunks that cut
 * lines, a "\r\n" and UTF-8 characters anywhere, stdout and stderr interleaved, with levels, secrets
 * and over-long lines; a last line without a newline, the end, and `exited`. Several segments.
 * Written once; each run gets a copy, so that every record keeps its time.
 */
const template = join(temp.path, 'intake-template');
mkdirSync(template);
{
  const writer = createIntakeWriter(template);
  writer.append(INTAKE_EVENT, Buffer.from(JSON.stringify({ event: 'started', level: 'INFO', message: 'started', metadata: {} })));
  let out = '';
  for (let i = 1; i <= 60_000; i++) {
    if (i % 1000 === 0) out += `WARN € line ${i} secret=hunter${i}\r\n`;
    else if (i % 777 === 0) out += `${'long '.repeat(60)}${i}\n`;
    else out += `line ${i} ${'x'.repeat(80)} ü\n`;
  }
  const stdout = Buffer.from(`${out}no newline at the end`);
  const stderr = Buffer.from(Array.from({ length: 5000 }, (_, i) => `error ${i + 1} ✗\n`).join(''));
  let atOut = 0;
  let atErr = 0;
  for (let n = 0; atOut < stdout.length || atErr < stderr.length; n++) {
    const size = 1 + ((n * 7919) % 65_536);
    if (n % 5 === 4 && atErr < stderr.length) {
      writer.append(INTAKE_STDERR, stderr.subarray(atErr, atErr + (size % 4096) + 1));
      atErr += (size % 4096) + 1;
    } else if (atOut < stdout.length) {
      writer.append(INTAKE_STDOUT, stdout.subarray(atOut, atOut + size));
      atOut += size;
    }
  }
  writer.append(INTAKE_END);
  writer.append(INTAKE_EVENT, Buffer.from(JSON.stringify({ event: 'exited', level: 'INFO', message: 'exited with code 0', metadata: { exitCode: 0 } })));
  writer.close();
}

/** Records in the template's first segment. */
const firstSegmentRecords = ((): number => {
  const reader = openIntakeReader(template, 0);
  let count = 0;
  for (let record = reader.next(); record !== undefined && record.kind !== 'segment-end'; record = reader.next()) count++;
  reader.close();
  return count;
})();

function writeIntake(dir: string): void {
  for (const name of readdirSync(template)) copyFileSync(join(template, name), join(dir, name));
}

/**
 * The processing thread's loop, stopped after `records` records as a kill -9 would stop it: at each
 * segment's end everything is written to the spool, the state saved and the segment deleted; in
 * between, entries reach the spool every 50 records.
 */
function processLive(run: RunSpool, records = Number.POSITIVE_INFINITY): void {
  const processor = createIntakeProcessor({ runId: RUN_ID, spool: run, settings: SETTINGS });
  const reader = openIntakeReader(run.dir, 0);
  let taken = 0;
  for (let record = reader.next(); record !== undefined && taken < records; record = reader.next()) {
    if (record.kind === 'segment-end') {
      expect(processor.flush().ok).toBe(true);
      saveProcessingState(run.dir, processor.state(record.nextOffset));
      unlinkQuietly(record.path);
      continue;
    }
    processor.take(record);
    if (++taken % 50 === 0) expect(processor.flush().ok).toBe(true);
  }
  if (taken < records) expect(processor.flush().ok).toBe(true);
  reader.close();
}

/** The first difference from the reference (a diff of 60,000 entries would take the reporter minutes). */
function differenceFrom(expected: readonly string[], actual: readonly string[]): { at: number; expected?: string; actual?: string } | undefined {
  const length = Math.max(expected.length, actual.length);
  for (let i = 0; i < length; i++) {
    if (expected[i] !== actual[i]) return { at: i, ...(expected[i] === undefined ? {} : { expected: expected[i] }), ...(actual[i] === undefined ? {} : { actual: actual[i] }) };
  }
  return undefined;
}

function entriesOf(run: RunSpool): string[] {
  const entries: string[] = [];
  for (let seq = run.ackedSeq + 1; seq <= run.lastSeq; ) {
    const batch = run.read(seq, 10_000, 4 * 1024 * 1024, FRAME);
    if (batch === undefined) break;
    for (const entry of JSON.parse(batch.body.toString()) as unknown[]) entries.push(JSON.stringify(entry));
    seq = batch.lastSeq + 1;
  }
  return entries;
}

describe('replaying the intake of a killed agent', () => {
  // The run as it is when nothing goes wrong: everything processed in one go.
  const reference = newRun();
  writeIntake(reference.dir);
  processLive(reference);
  const expected = entriesOf(reference);

  it('has a reference with every line, in order, numbered without a gap', () => {
    const parsed = expected.map((e) => JSON.parse(e) as { runSeq: number; source: string; message: string; level: string });
    expect(parsed.map((e) => e.runSeq)).toEqual(parsed.map((_, i) => i + 1));
    expect(parsed.filter((e) => e.source === 'stdout')).toHaveLength(60_001);
    expect(parsed.filter((e) => e.source === 'stderr')).toHaveLength(5000);
    expect(parsed.at(-1)?.message).toBe('exited with code 0');
    expect(parsed.filter((e) => e.source === 'stdout').at(-1)?.message).toBe('no newline at the end');
    expect(parsed.find((e) => e.message.startsWith('WARN'))).toMatchObject({ level: 'WARN', message: 'WARN € line 1000 [REDACTED]' });
  });

  for (const [name, records, stateSaved] of [
    ['before anything was processed', 0, false],
    ['inside the first segment, entries spooled but no state saved', 40, false],
    ['past a segment boundary, with its state saved and the segment deleted', firstSegmentRecords + 20, true],
    ['after the last record', Number.POSITIVE_INFINITY, true],
  ] as const satisfies readonly (readonly [string, number, boolean])[]) {
    it(`writes exactly the entries the agent would have: killed ${name}`, async () => {
      const run = newRun();
      writeIntake(run.dir);
      processLive(run, records);
      expect(existsSync(join(run.dir, 'intake-state.json'))).toBe(stateSaved);
      // The kill: nothing is closed, the lock stays behind (a dead agent's would be stale).
      const claimed = claimRun(run.dir) as RunSpool;
      expect(claimed).toBeDefined();
      expect(await replayIntake(claimed)).toEqual({ ok: true });
      expect(differenceFrom(expected, entriesOf(claimed))).toBeUndefined();
      expect(readdirSync(run.dir).filter((f) => f.startsWith('intake'))).toEqual([]);
    });
  }

  it('recovers entries torn in the spool itself from the intake', async () => {
    const run = newRun();
    writeIntake(run.dir);
    processLive(run, 100);
    const last = readdirSync(run.dir).filter((f) => f.endsWith('.jsonl')).sort().at(-1) as string;
    appendFileSync(join(run.dir, last), '{"source":"stdout","level":"INFO","mess');
    const claimed = claimRun(run.dir) as RunSpool;
    expect(await replayIntake(claimed)).toEqual({ ok: true });
    expect(differenceFrom(expected, entriesOf(claimed))).toBeUndefined();
  });

  it('replays again, the same, when a replay died after writing its entries but before removing the intake', async () => {
    const run = newRun();
    writeIntake(run.dir);
    processLive(run, 60);
    const first = claimRun(run.dir) as RunSpool;
    expect(await replayIntake(first)).toEqual({ ok: true });
    writeIntake(run.dir);
    const second = claimRun(run.dir) as RunSpool;
    expect(await replayIntake(second)).toEqual({ ok: true });
    expect(differenceFrom(expected, entriesOf(second))).toBeUndefined();
  });
});
