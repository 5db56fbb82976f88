import { appendFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing/base';
import {
  createIntakeWriter,
  INTAKE_END,
  INTAKE_EVENT,
  INTAKE_STDERR,
  INTAKE_STDOUT,
  openIntakeReader,
  type IntakeReader,
} from '../src/read/intake.js';
import { listIntakeSegments } from '../src/run/run-directory.js';

const temp = await makeTempDir('keruta-agent-intake-');
afterAll(() => temp.remove());
let dirs = 0;

function newDir(): string {
  const dir = join(temp.path, `run-${++dirs}`);
  mkdirSync(dir);
  return dir;
}

/** Everything the reader returns now, segment ends included, payloads copied. */
function drain(reader: IntakeReader): { kind: number | string; text?: string; timeMs?: number }[] {
  const seen: { kind: number | string; text?: string; timeMs?: number }[] = [];
  for (let record = reader.next(); record !== undefined; record = reader.next()) {
    if (record.kind === 'segment-end') seen.push({ kind: 'segment-end' });
    else seen.push({ kind: record.kind, text: record.payload.toString(), timeMs: record.timeMs });
  }
  return seen;
}

describe('intake journal', () => {
  it('gives back every record in the order written, with the time it was read', () => {
    const dir = newDir();
    const writer = createIntakeWriter(dir);
    const before = Date.now();
    writer.append(INTAKE_STDOUT, Buffer.from('one\ntw'));
    writer.append(INTAKE_STDERR, Buffer.from('oops\n'));
    writer.append(INTAKE_EVENT, Buffer.from('{"event":"started"}'));
    writer.append(INTAKE_STDOUT, Buffer.from('o\n'));
    writer.append(INTAKE_END);
    writer.close();
    const records = drain(openIntakeReader(dir, 0));
    expect(records.map((r) => [r.kind, r.text])).toEqual([
      [INTAKE_STDOUT, 'one\ntw'],
      [INTAKE_STDERR, 'oops\n'],
      [INTAKE_EVENT, '{"event":"started"}'],
      [INTAKE_STDOUT, 'o\n'],
      [INTAKE_END, ''],
    ]);
    for (const record of records) expect(record.timeMs).toBeGreaterThanOrEqual(before);
  });

  it('is read while it is written: a record appears once it is whole', () => {
    const dir = newDir();
    const writer = createIntakeWriter(dir);
    const reader = openIntakeReader(dir, 0);
    expect(reader.next()).toBeUndefined();
    writer.append(INTAKE_STDOUT, Buffer.from('first\n'));
    expect(drain(reader).map((r) => r.text)).toEqual(['first\n']);
    expect(reader.next()).toBeUndefined();
    writer.append(INTAKE_STDOUT, Buffer.from('second\n'));
    expect(drain(reader).map((r) => r.text)).toEqual(['second\n']);
    expect(reader.offset).toBe(writer.written);
  });

  it('ignores a torn last record, as a kill -9 in the middle of a write leaves it', () => {
    const dir = newDir();
    const writer = createIntakeWriter(dir);
    writer.append(INTAKE_STDOUT, Buffer.from('kept\n'));
    writer.close();
    const [segment] = listIntakeSegments(dir);
    const header = Buffer.alloc(16);
    header.writeUInt32LE(100, 0);
    header[4] = INTAKE_STDOUT;
    appendFileSync(segment?.path as string, Buffer.concat([header, Buffer.from('only part of it')]));
    expect(drain(openIntakeReader(dir, 0)).map((r) => r.text)).toEqual(['kept\n']);
  });

  it('moves to new segments as it grows; the reader follows them and reports each end', () => {
    const dir = newDir();
    const writer = createIntakeWriter(dir);
    const chunk = Buffer.alloc(60 * 1024, 'x');
    const count = 200;
    for (let i = 0; i < count; i++) writer.append(INTAKE_STDOUT, chunk);
    writer.close();
    const segments = listIntakeSegments(dir);
    expect(segments.length).toBeGreaterThan(1);
    expect(segments[0]?.offset).toBe(0);
    const reader = openIntakeReader(dir, 0);
    const records = drain(reader);
    expect(records.filter((r) => r.kind === INTAKE_STDOUT)).toHaveLength(count);
    expect(records.filter((r) => r.kind === 'segment-end')).toHaveLength(segments.length - 1);
    expect(reader.offset).toBe(writer.written);
    // A reader can start at any segment's first record.
    const second = segments[1] as { offset: number };
    const fromSecond = drain(openIntakeReader(dir, second.offset)).filter((r) => r.kind === INTAKE_STDOUT);
    expect(fromSecond.length).toBeLessThan(count);
    expect(readdirSync(dir).every((name) => name.startsWith('intake-'))).toBe(true);
  });
});
