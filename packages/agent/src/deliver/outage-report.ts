// What is said of keruta-api's outages: the task's log hears that lines are kept on disk until it is
// back (`spooled`), that it is back (`reconnected`), and that the lines of the live run that waited
// the outage out are all delivered (`delivered`), each once per outage; the agent hears when the
// server first answered or first failed (`firstAnswer`).
import type { RunSpool } from './spool.js';
import { isPermanent, type DeliveryFailure, type Transport } from './transport.js';

export type OutageEvent = 'spooled' | 'reconnected' | 'delivered';

export type OutageListener = (event: OutageEvent, message: string, metadata: Record<string, unknown>) => void;

export interface OutageReport {
  /** Resolves once the server has first answered (an acknowledgement) or first failed. */
  readonly firstAnswer: Promise<void>;
  /** A failure; one the delivery waits out (not a final refusal) starts an outage. `live`: the run the script appends to. */
  failed(failure: DeliveryFailure, live: RunSpool | undefined): void;
  /** The first acknowledgement on a connection, after `attempts` failed attempts: the server is really back. */
  confirmed(kind: Transport['kind'], attempts: number, live: RunSpool | undefined): void;
  /** Entries were acknowledged: says so when they were the last of those that waited out the outage. */
  acknowledged(): void;
  /** Outages that ended in a reconnection. */
  readonly reconnects: number;
}

export function createOutageReport(onEvent: OutageListener | undefined): OutageReport {
  /** An outage is under way: the next successful connection is a reconnection. */
  let outage = false;
  let everConnected = false;
  let reconnects = 0;
  /** After a reconnection, the runSeq of the live run up to which entries waited out the outage. */
  let backlog: { run: RunSpool; seq: number; since: number } | undefined;
  let answered: () => void = () => undefined;
  const firstAnswer = new Promise<void>((resolve) => (answered = resolve));

  return {
    firstAnswer,
    failed(failure, live) {
      answered();
      if (isPermanent(failure) || outage) return;
      outage = true;
      const what = everConnected ? 'lost the connection to keruta-api' : 'keruta-api is unreachable';
      onEvent?.('spooled', `${what} (${failure.code}: ${failure.message}); keeping lines on disk until it is back`, {
        reason: failure.code,
        spoolDir: live?.dir,
      });
    },
    confirmed(kind, attempts, live) {
      answered();
      if (outage) {
        reconnects++;
        const kept = live === undefined ? 0 : live.lastSeq - live.ackedSeq;
        if (live !== undefined && !live.sealed && kept > 0) backlog = { run: live, seq: live.lastSeq, since: live.ackedSeq };
        onEvent?.('reconnected', `reconnected to keruta-api (${kind}) after ${attempts} failed attempts; ${kept} lines left to send`, {
          attempts,
          transport: kind,
          pending: kept,
        });
      }
      outage = false;
      everConnected = true;
    },
    acknowledged() {
      if (backlog === undefined || backlog.run.ackedSeq < backlog.seq) return;
      const { seq, since } = backlog;
      backlog = undefined;
      onEvent?.('delivered', `delivered the ${seq - since} lines kept while keruta-api was unreachable`, { count: seq - since });
    },
    get reconnects() {
      return reconnects;
    },
  };
}
