// The live fan-out between writers and subscribers: one interface, a memory and (later) a Redis bus.
import type { LogEntry, TaskSummary } from '@keruta/protocol';

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

export type BusEvent = EntriesEvent | TaskEvent;
export type BusListener = (event: BusEvent) => void;

export interface LogBus {
  readonly kind: string;
  publish(event: BusEvent): void;
  /** Calls `listener` for every event of `taskId` (or of every task with '*'); returns the unsubscribe. */
  subscribe(taskId: string, listener: BusListener): () => void;
  /** Throws when the bus cannot carry events; for /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
