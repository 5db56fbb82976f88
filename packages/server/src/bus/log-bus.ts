// The live fan-out between writers and subscribers: one interface, a memory bus for one process
// and a Redis bus for several. The store is the truth; a bus only tells readers that it grew.
import type { LogEntry, PartialMessage, TaskSummary } from '@keruta/protocol';

/** Entries a store has just committed, contiguous in `seq`. */
export interface EntriesEvent {
  kind: 'entries';
  taskId: string;
  entries: LogEntry[];
}

/** A task started or ended. */
export interface TaskEvent {
  kind: 'task';
  taskId: string;
  task: TaskSummary;
}

/** The line a task's script is still writing (ws/partial-relay.ts): ephemeral, never stored. */
export interface PartialEvent {
  kind: 'partial';
  taskId: string;
  partial: PartialMessage;
}

export type BusEvent = EntriesEvent | TaskEvent | PartialEvent;

/**
 * Not an event but a warning from the bus: events of `taskId` ('*' for a subscription to every
 * task) may have been missed — the bus reconnected, or the subscription has just become active
 * after the subscriber last looked at the store. Readers check the store.
 */
export interface BusResync {
  kind: 'resync';
  taskId: string;
}

export type BusListener = (event: BusEvent | BusResync) => void;

export interface LogBus {
  readonly kind: string;
  /**
   * True when every published event reaches every subscriber (a bus inside one process); false
   * when events may be lost on the way, so that readers must also look at the store now and then.
   */
  readonly lossless: boolean;
  /** Delivers to this process's subscribers before it returns, and to other instances' soon after. */
  publish(event: BusEvent): void;
  /** Calls `listener` for every event of `taskId` (or of every task with '*'); returns the unsubscribe. */
  subscribe(taskId: string, listener: BusListener): () => void;
  /**
   * Resolves once every publish, subscribe and unsubscribe made so far has taken effect on the
   * bus, and whatever the bus had sent to this instance by then has been delivered.
   */
  settled(): Promise<void>;
  /** Throws when the bus cannot carry events; for /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
