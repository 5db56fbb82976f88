// The agent's CPU priority while the script runs. The script comes first: turning its output into
// entries costs more CPU than printing it (~0.6 µs a line against awk's ~0.3), so every thread of
// the agent but the reading one steps aside while the script runs, and the journal (intake.ts)
// holds the backlog on disk. With an idle core nothing changes (a line still reaches keruta-api in
// well under a millisecond); when the cores are busy, the lines follow as the script leaves CPU to
// spare.
//
// Stepping aside is SCHED_IDLE (Linux, by util-linux's `chrt`), not only nice 19. A core that runs
// nothing but SCHED_IDLE threads counts as idle when the kernel places a waking thread, so the
// reading thread, woken a thousand times a second in a burst, is put there instead of interrupting
// the script on its own core; with nice 19 it lands on the script's core as soon as the other one
// is busy with the agent's own work (bench/RESULTS.md, session 3: the script interrupted ~1,000
// times instead of ~50 over 1,000,000 lines). The reading thread itself, once the script has been
// started (so that the script does not inherit it), is SCHED_BATCH: the same share of the CPU as
// the script, but a wake-up of it does not cut the script's time slice short; in a burst it reads
// what piled up when the script blocks or its slice ends (~170 interruptions of the script
// instead of ~1,100 with keruta-api busy on the other core). Without `chrt` (or /proc, or the
// permission) the agent works the same with nice 19, or with no change at all.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The lowest nice value there is. */
const LOWEST_PRIORITY = 19;

/** `chrt --idle|--batch|--other --pid 0 TID` for each thread, in the background; failures change nothing. */
function setPolicy(policy: '--idle' | '--batch' | '--other', tids: readonly number[]): Promise<void> {
  return new Promise((resolveAll) => {
    let left = tids.length;
    if (left === 0) return resolveAll();
    for (const tid of tids) {
      const chrt = spawn('chrt', [policy, '--pid', '0', String(tid)], { stdio: 'ignore' });
      const done = (): void => {
        if (--left === 0) resolveAll();
      };
      // No chrt here, or not allowed: nice 19 stays.
      chrt.once('error', done);
      chrt.once('exit', done);
    }
  });
}

export interface Yielding {
  /** Resolves once the threads are at their new priority (or it could not be changed). */
  readonly settled: Promise<void>;
  /**
   * The script is done: back from SCHED_IDLE to the normal policy (at nice 19; an unprivileged
   * process cannot lower its nice value again), so that delivering the backlog is not starved by
   * whatever the machine does next.
   */
  restore(): Promise<void>;
}

/**
 * Every thread of this process but `readerTid` steps aside for the script, and the reading thread
 * leaves it its time slices (see above). Call once the script has been started.
 */
export function yieldToTheScript(readerTid: number): Yielding {
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== readerTid);
  } catch {
    // No /proc (not Linux): priorities are per process there, and the reading thread's would fall too.
    return { settled: Promise.resolve(), restore: () => Promise.resolve() };
  }
  for (const tid of tids) {
    try {
      setPriority(tid, LOWEST_PRIORITY);
    } catch {
      // Not allowed (a sandbox), or the thread has just ended: the agent works the same, with less regard for the script.
    }
  }
  const settled = Promise.all([setPolicy('--idle', tids), setPolicy('--batch', [readerTid])]).then(() => undefined);
  return {
    settled,
    restore: () => settled.then(() => setPolicy('--other', [...tids, readerTid])),
  };
}
