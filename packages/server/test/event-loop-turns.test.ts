// The event loop's turns shared by ingest and the subscribers' sockets: steps wait for a turn in
// the order they asked, and a batch is stored in a turn of its own, so that whatever arrived
// meanwhile is handled first. Orders of events, not durations: a slow machine passes alike.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing';
import { createLogStore } from '@keruta/storage';
import { createBus } from '../src/bus/create-bus.js';
import { createTurnQueue } from '../src/event-loop.js';
import { createIngest } from '../src/ingest.js';
import { createMetrics } from '../src/metrics.js';
import { createWriteHealth } from '../src/write-health.js';

/** Resolves once the queue has run every step that asked before this. */
const after = (turns: ReturnType<typeof createTurnQueue>) => new Promise<void>((resolve) => turns.wait(resolve));

describe('turns of the event loop', () => {
  it('runs waiting steps in the order they asked, and what else is queued runs between two turns', async () => {
    // A turn of 0 ms has time for its first step only.
    const turns = createTurnQueue(0);
    const order: string[] = [];
    for (const name of ['a', 'b', 'c']) turns.wait(() => order.push(name));
    setImmediate(() => order.push('between'));
    await after(turns);
    expect(order).toEqual(['a', 'between', 'b', 'c']);
  });

  it('runs the steps of one turn together while it has time, and a step that asked during it in the next', async () => {
    const turns = createTurnQueue(60_000);
    const order: string[] = [];
    const late = new Promise<void>((resolve) =>
      turns.wait(() => {
        order.push('a');
        // Asked during the turn: waits for the next one, behind those queued before it.
        turns.wait(() => {
          order.push('late');
          resolve();
        });
      }),
    );
    turns.wait(() => order.push('b'));
    await late;
    expect(order).toEqual(['a', 'b', 'late']);
  });

  it('leaves no time in its turn after a step that awaited next(), and a whole turn to the next step', async () => {
    const turns = createTurnQueue(60_000);
    await turns.next();
    expect(turns.hasTime()).toBe(false);
    const hadTime = await new Promise<boolean>((resolve) => turns.wait(() => resolve(turns.hasTime())));
    expect(hadTime).toBe(true);
  });

  it('stores a batch in a turn of its own: what was queued when it came runs before the batch is stored and published', async () => {
    await using dir = await makeTempDir();
    const store = await createLogStore(`sqlite:${dir.path}/keruta.db`);
    const bus = createBus('memory');
    const turns = createTurnQueue();
    const search = store.openSearchIndex();
    const ingest = createIngest({
      store,
      bus,
      metrics: createMetrics(),
      writeHealth: createWriteHealth(),
      logger: pino({ level: 'silent' }),
      maxMessageLength: 65_536,
      search,
      turns,
    });
    try {
      const order: string[] = [];
      bus.subscribe('turns', (event) => {
        if (event.kind === 'entries') order.push(`published ${event.entries.length}`);
      });
      const entries = Array.from({ length: 3000 }, (_, i) => ({ source: 'stdout', level: 'INFO', message: `line ${i + 1}` }));
      const appending = ingest.append('turns', entries, 'ws', 'entries', undefined);
      // A request that arrived meanwhile, as far as the loop can tell.
      setImmediate(() => order.push('request'));
      const result = await appending;
      expect(order).toEqual(['request', 'published 3000']);
      expect(result.stored).toHaveLength(3000);
      expect(await store.lastSeq('turns')).toBe(3000);
    } finally {
      await bus.close();
      await search.close();
      await store.close();
    }
  });
});
