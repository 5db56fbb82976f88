import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing/base';
import { createDeliveryQueue } from '../src/deliver/delivery-queue.js';
import { createRunSpool, type RunSpool } from '../src/deliver/spool.js';

const temp = await makeTempDir('keruta-agent-queue-');
afterAll(() => temp.remove());
let runs = 0;

/** A real run spool holding `entries` entries; sealed unless it is the live one. */
function newRun(entries: number, sealed = true): RunSpool {
  const runId = `run-${++runs}`;
  const spool = createRunSpool(join(temp.path, runId), { taskId: 'task-1', runId, createdAt: new Date(Date.now() + runs).toISOString() });
  let text = '';
  for (let seq = 1; seq <= entries; seq++) text += `${JSON.stringify({ message: `line ${seq}`, runSeq: seq })}\n`;
  spool.append(Buffer.from(text), entries);
  if (sealed) spool.seal();
  return spool;
}

describe('delivery queue', () => {
  it('sends runs in the order they were added; a live run with nothing new holds back those after it', () => {
    const queue = createDeliveryQueue(10);
    const [earlier, live, later] = [newRun(3), newRun(0, false), newRun(2)];
    for (const run of [earlier, live, later]) queue.add(run);
    expect(queue.unsent).toBe(5);
    const first = queue.nextBatch(100);
    expect(first).toMatchObject({ cursor: { run: earlier, nextSeq: 1 }, entries: 3 });
    if (first !== undefined) first.cursor.nextSeq = 4;
    expect(queue.nextBatch(100)).toBeUndefined();
    live.seal();
    expect(queue.nextBatch(100)?.cursor.run).toBe(later);
    expect(queue.live).toBe(later);
  });

  it('sends live lines in batches of batchSize and a backlog in batches as big as the room allows', () => {
    const queue = createDeliveryQueue(10);
    queue.add(newRun(8));
    expect(queue.nextBatch(100)?.entries).toBe(8);
    const backlog = createDeliveryQueue(10);
    backlog.add(newRun(500));
    expect(backlog.nextBatch(100)?.entries).toBe(100);
    expect(backlog.nextBatch(5)?.entries).toBe(5);
    expect(backlog.nextBatch(0)).toBeUndefined();
  });

  it('sends everything after the last acknowledgement again once rewound', () => {
    const queue = createDeliveryQueue(10);
    const run = newRun(6);
    queue.add(run);
    const batch = queue.nextBatch(100);
    if (batch !== undefined) batch.cursor.nextSeq = 7;
    run.acknowledge(2);
    expect(queue.unsent).toBe(0);
    queue.rewind();
    expect(queue.unsent).toBe(4);
    expect(queue.nextBatch(100)).toMatchObject({ cursor: { nextSeq: 3 }, entries: 4 });
  });

  it('closes the runs that are all acknowledged as it goes, but the last, and says what is kept at the end', () => {
    const queue = createDeliveryQueue(10);
    const [done, kept, live] = [newRun(2), newRun(3), newRun(1, false)];
    for (const run of [done, kept, live]) queue.add(run);
    const delivered: RunSpool[] = [];
    done.acknowledge(2);
    live.acknowledge(1);
    queue.closeDelivered((run) => delivered.push(run));
    expect(delivered).toEqual([done]);
    expect(queue.isDone).toBe(false);
    live.seal();
    expect(queue.closeAll((run) => delivered.push(run))).toEqual({ kept: 3, dirs: [kept.dir] });
    expect(delivered).toEqual([done, live]);
    expect(queue.isDone).toBe(true);
  });
});
