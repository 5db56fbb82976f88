// The LogBus contract: one suite, run against every bus in BUSES. Buses that carry events
// between instances (Redis) also run the cases for two instances side by side.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry, TaskSummary } from '@keruta/protocol';
import { TEST_REDIS_URL, redisAnswers, waitUntil, warnRedisMissing } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';
import { createBus } from '../src/bus/create-bus.js';
import type { BusEvent, BusResync, LogBus } from '../src/bus/log-bus.js';

interface BusUnderTest {
  name: string;
  available: boolean;
  /** True when two buses opened by `open` are two instances sharing one bus. */
  shared: boolean;
  open(): LogBus;
}

/** Channels of this file only, so that test files running side by side never see each other. */
const PREFIX = `keruta:test:${randomUUID()}:`;
const redisUp = await redisAnswers();
if (!redisUp) warnRedisMissing('log-bus.contract.test.ts');

const BUSES: BusUnderTest[] = [
  { name: 'memory', available: true, shared: false, open: () => createBus('memory') },
  {
    name: 'redis',
    available: redisUp,
    shared: true,
    open: () => createBus(`${TEST_REDIS_URL}?channelPrefix=${encodeURIComponent(PREFIX)}`),
  },
];

function entry(taskId: string, seq: number): LogEntry {
  return {
    id: `${taskId}-${seq}`,
    seq,
    taskId,
    timestamp: new Date(Date.UTC(2024, 4, 1, 10, 0, 0, seq)).toISOString(),
    source: seq % 2 === 0 ? 'stderr' : 'stdout',
    level: 'INFO',
    message: `line ${seq} ✓ "quoted" \\ back`,
    lineNumber: seq,
    metadata: { processId: 42, nested: { ok: true } },
    runId: 'run-1',
    runSeq: seq,
  };
}

function entries(taskId: string, first: number, count: number): BusEvent {
  return { kind: 'entries', taskId, entries: Array.from({ length: count }, (_, i) => entry(taskId, first + i)) };
}

function taskEvent(taskId: string, status: TaskSummary['status']): BusEvent {
  return { kind: 'task', taskId, task: { taskId, status, totalLogs: 3, lastSeq: 3, startedAt: '2024-05-01T10:00:00.000Z', updatedAt: '2024-05-01T10:00:01.000Z' } };
}

/** Every event a listener got, resyncs apart (they are the bus's own notes, checked on their own). */
function recorder() {
  const events: BusEvent[] = [];
  const resyncs: BusResync[] = [];
  return {
    events,
    resyncs,
    listener: (event: BusEvent | BusResync) => {
      if (event.kind === 'resync') resyncs.push(event);
      else events.push(event);
    },
    seqs: () => events.flatMap((e) => (e.kind === 'entries' ? e.entries.map((x) => x.seq) : [])),
  };
}

for (const kind of BUSES) {
  describe.skipIf(!kind.available)(`LogBus contract: ${kind.name}`, () => {
    const opened: LogBus[] = [];
    const open = (): LogBus => {
      const bus = kind.open();
      opened.push(bus);
      return bus;
    };
    /** Waits until what every bus published has reached every other. */
    const settle = async (): Promise<void> => {
      for (const bus of opened) await bus.settled();
      for (const bus of opened) await bus.settled();
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((bus) => bus.close()));
    });
    const task = (): string => `task-${randomUUID().slice(0, 8)}`;

    it('delivers a task\'s events to that task\'s listeners and to "*" listeners, and to no other task\'s', async () => {
      const bus = open();
      const a = task();
      const forA = recorder();
      const forB = recorder();
      const forAll = recorder();
      bus.subscribe(a, forA.listener);
      bus.subscribe(task(), forB.listener);
      bus.subscribe('*', forAll.listener);
      await settle();
      bus.publish(entries(a, 1, 3));
      bus.publish(taskEvent(a, 'running'));
      expect(forA.events).toEqual([entries(a, 1, 3), taskEvent(a, 'running')]);
      expect(forAll.events).toEqual([entries(a, 1, 3), taskEvent(a, 'running')]);
      await settle();
      expect(forB.events).toEqual([]);
    });

    it('carries a partial line (the line a script is still writing) to the task\'s listeners, at once here and intact on every instance', async () => {
      const a = open();
      const b = kind.shared ? open() : a;
      const t = task();
      const here = recorder();
      const there = recorder();
      a.subscribe(t, here.listener);
      b.subscribe(t, there.listener);
      await settle();
      const partial: BusEvent = {
        kind: 'partial',
        taskId: t,
        partial: { type: 'partial', taskId: t, source: 'stdout', runId: 'run-1', lineNumber: 7, text: 'progress 50% ✓', timestamp: '2024-05-01T10:00:00.000Z' },
      };
      a.publish(partial);
      expect(here.events).toEqual([partial]);
      await waitUntil(() => there.events.length === 1, 'the partial on the other instance');
      expect(there.events).toEqual([partial]);
    });

    it("delivers the publishing instance's own events at once and exactly once", async () => {
      const bus = open();
      const a = task();
      const forA = recorder();
      const forAll = recorder();
      bus.subscribe(a, forA.listener);
      bus.subscribe('*', forAll.listener);
      await settle();
      for (let seq = 1; seq <= 50; seq++) bus.publish(entries(a, seq, 1));
      // Synchronously: no round trip through another process before the local subscribers see it.
      expect(forA.seqs()).toHaveLength(50);
      await settle();
      await sleep(50);
      expect(forA.seqs()).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(forAll.seqs()).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    it('stops delivering to a listener once it unsubscribes, and keeps delivering to the others', async () => {
      const bus = open();
      const a = task();
      const gone = recorder();
      const stays = recorder();
      const unsubscribe = bus.subscribe(a, gone.listener);
      bus.subscribe(a, stays.listener);
      await settle();
      bus.publish(entries(a, 1, 1));
      unsubscribe();
      unsubscribe();
      bus.publish(entries(a, 2, 1));
      await settle();
      expect(gone.seqs()).toEqual([1]);
      expect(stays.seqs()).toEqual([1, 2]);
    });

    it("keeps each task's events in the order they were published", async () => {
      const bus = open();
      const tasks = [task(), task(), task()];
      const got = tasks.map(() => recorder());
      tasks.forEach((t, i) => bus.subscribe(t, got[i]!.listener));
      await settle();
      for (let seq = 1; seq <= 300; seq++) bus.publish(entries(tasks[seq % 3]!, seq, 1));
      await settle();
      tasks.forEach((_, i) => {
        const seqs = got[i]!.seqs();
        expect(seqs).toHaveLength(100);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      });
    });

    it('answers ping while open and refuses it once closed, delivering nothing after close', async () => {
      const bus = open();
      const a = task();
      const got = recorder();
      bus.subscribe(a, got.listener);
      await bus.settled();
      await expect(bus.ping()).resolves.toBeUndefined();
      await bus.close();
      bus.publish(entries(a, 1, 1));
      expect(got.events).toEqual([]);
      await expect(bus.ping()).rejects.toThrow(/closed/);
      await expect(bus.close()).resolves.toBeUndefined();
    });

    it.runIf(kind.shared)("carries one instance's events to another instance's listeners, intact and in order", async () => {
      const a = open();
      const b = open();
      const t = task();
      const onB = recorder();
      const allOnB = recorder();
      b.subscribe(t, onB.listener);
      b.subscribe('*', allOnB.listener);
      await settle();
      const sent: BusEvent[] = [taskEvent(t, 'running')];
      for (let seq = 1; seq <= 1000; seq += 10) sent.push(entries(t, seq, 10));
      sent.push(taskEvent(t, 'succeeded'));
      for (const event of sent) a.publish(event);
      await waitUntil(() => onB.events.length === sent.length && allOnB.events.length === sent.length, 'the events on instance b');
      expect(onB.events).toEqual(sent);
      expect(allOnB.events).toEqual(sent);
    });

    it.runIf(kind.shared)('delivers each event once on every instance when both publish and both listen', async () => {
      const a = open();
      const b = open();
      const t = task();
      const onA = recorder();
      const onB = recorder();
      a.subscribe(t, onA.listener);
      b.subscribe(t, onB.listener);
      a.subscribe('*', onA.listener);
      await settle();
      for (let seq = 1; seq <= 100; seq++) (seq % 2 === 0 ? a : b).publish(entries(t, seq, 1));
      await settle();
      await sleep(50);
      const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
      const all = Array.from({ length: 100 }, (_, i) => i + 1);
      expect(sorted(onB.seqs())).toEqual(all);
      // a's listener is on the task and on '*': each event once through each.
      expect(sorted(onA.seqs())).toEqual(sorted([...all, ...all]));
    });

    it.runIf(kind.shared)('carries nothing to an instance that no longer listens to the task', async () => {
      const a = open();
      const b = open();
      const t = task();
      const onB = recorder();
      const unsubscribe = b.subscribe(t, onB.listener);
      await settle();
      a.publish(entries(t, 1, 1));
      await waitUntil(() => onB.events.length === 1, 'the first event');
      unsubscribe();
      await settle();
      a.publish(entries(t, 2, 1));
      await settle();
      expect(onB.seqs()).toEqual([1]);
    });

    it.runIf(kind.shared)('tells a listener to look at the store once its subscription is in effect', async () => {
      const bus = open();
      const t = task();
      const got = recorder();
      bus.subscribe(t, got.listener);
      await settle();
      expect(got.resyncs).toEqual([{ kind: 'resync', taskId: t }]);
    });

    it.runIf(kind.name === 'redis')('keeps instances with different channel prefixes apart', async () => {
      const a = open();
      const other = createBus(`${TEST_REDIS_URL}?channelPrefix=${encodeURIComponent(`${PREFIX}other:`)}`);
      opened.push(other);
      const t = task();
      const onOther = recorder();
      const allOnOther = recorder();
      other.subscribe(t, onOther.listener);
      other.subscribe('*', allOnOther.listener);
      await settle();
      a.publish(entries(t, 1, 1));
      await settle();
      expect(onOther.events).toEqual([]);
      expect(allOnOther.events).toEqual([]);
    });
  });
}
