// The agent's CPU priority while the script runs, set by the reading thread. The script comes
// first during a burst of output (a megabyte within 100 ms, reads at most 10 ms apart, until
// 100 ms after the last of them); outside one, a lone line reaches its viewers at once, however
// busy the machine. Turning output into entries costs more CPU than printing it (~0.6 µs a line
// against awk's ~0.3); the journal (intake.ts) holds any backlog on disk. During a burst (Linux,
// by util-linux's `chrt`):
// - The agent's other threads are SCHED_IDLE. A core that runs nothing but SCHED_IDLE threads
//   counts as idle when the kernel places a waking thread, so the reading thread, woken a thousand
//   times a second in a burst, is put there instead of interrupting the script on its own core; at
//   nice 19 it lands on the script's core as soon as the other one is busy with the agent's own
//   work (bench/RESULTS.md, session 3: ~50 interruptions of the script over 1,000,000 lines
//   instead of ~450–860; 1.74× → 1.2×).
// - The reading thread is SCHED_BATCH: the same share of the CPU as the script, but a wake-up of
//   it does not cut the script's time slice short; it reads what piled up when the script blocks
//   or its slice ends (~170 interruptions instead of ~1,100 with keruta-api busy on the other core).
// Only during a burst: a SCHED_IDLE thread, or one at nice 19, gets next to nothing while other
// programs keep the cores busy, so a build printing a line now and then on a loaded machine would
// reach its viewers late (bench `latency`, busy-machine rows: p50 65–115 ms at nice 19, 0.4–1.4 s
// at SCHED_IDLE, ~2 ms at the normal priority). Leaving SCHED_IDLE or lowering a nice value again
// needs CAP_SYS_NICE or a large enough RLIMIT_NICE (root in most containers, not a plain user):
// where the way back is not allowed, the other threads run at nice 19 for the whole run instead
// (what the script gains matters more there than a line's first 100 ms), and only the reading
// thread changes with the bursts (SCHED_BATCH and back needs no privilege). Without `chrt` or `sh`
// (or /proc) the agent works the same with fewer of these changes, or none.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The lowest nice value there is. */
const LOWEST_PRIORITY = 19;
/** Read within BURST_WINDOW_MS before the reading thread goes to SCHED_BATCH and the others to SCHED_IDLE: 10 MB/s. */
export const BURST_BYTES_TO_STEP_ASIDE = 1024 * 1024;
const BURST_WINDOW_MS = 100;
/** Reads further apart than this end a burst (a loaded machine may hold the reading thread back for a few ms in one). */
const LONGEST_PAUSE_IN_BURST_MS = 10;
/** Without a burst for this long, they all come back. */
export const QUIET_MS_TO_COME_BACK = 100;

type Policy = '--idle' | '--batch' | '--other';

/**
 * `chrt POLICY --pid 0 TID` for each pair, one `sh` for all of them (one fork of this big process
 * instead of one per thread). Resolves when done; failures change nothing.
 */
function setPolicies(changes: readonly (readonly [Policy, number])[]): Promise<void> {
  if (changes.length === 0) return Promise.resolve();
  return new Promise((resolveAll) => {
    const args = changes.map(([policy, tid]) => `${policy}:${tid}`);
    const child = spawn('sh', ['-c', 'for change; do chrt "${change%%:*}" --pid 0 "${change#*:}"; done', 'sh', ...args], { stdio: 'ignore' });
    // No sh here, or not allowed: the nice values stay.
    child.once('error', () => resolveAll());
    child.once('exit', () => resolveAll());
  });
}

/** CAP_SYS_NICE, by its bit in the effective capabilities of /proc/self/status. */
const CAP_SYS_NICE = 23n;
/** RLIMIT_NICE that allows nice 0, the threads' normal value: 20 - nice (getrlimit(2)). */
const RLIMIT_NICE_FOR_NICE_0 = 20;

/**
 * Whether a thread at nice 0 may leave SCHED_IDLE again (sched_setscheduler(2): CAP_SYS_NICE, or
 * an RLIMIT_NICE that allows nice 0, i.e. 20), from the texts of /proc/self/status and
 * /proc/self/limits.
 */
export function mayLeaveIdle(status: string, limits: string): boolean {
  const capabilities = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (capabilities !== undefined && ((BigInt(`0x${capabilities}`) >> CAP_SYS_NICE) & 1n) === 1n) return true;
  const niceLimit = /^Max nice priority\s+(\S+)/m.exec(limits)?.[1];
  return niceLimit === 'unlimited' || Number(niceLimit) >= RLIMIT_NICE_FOR_NICE_0;
}

function mayThisProcessLeaveIdle(): boolean {
  try {
    return mayLeaveIdle(readFileSync('/proc/self/status', 'utf8'), readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    // No /proc to tell: not allowed, as far as we know.
    return false;
  }
}

export interface ScriptFirst {
  /** A read of `bytes`, `gapMs` after the reading thread was done with the one before. */
  read(bytes: number, gapMs: number): void;
  /** The script is done: every thread back at the normal policy (at nice 19 where it could not have come back). */
  finish(): Promise<void>;
}

/** The threads of this process but `readerTid`, now (libuv and V8 start theirs as they need them). */
function otherThreads(readerTid: number): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((tid) => tid !== readerTid);
  } catch {
    // The process is ending, or /proc went away: nothing to change.
    return [];
  }
}

/**
 * Called by the reading thread (`readerTid`) once the script has been started. Without a thread id
 * (no /proc: not Linux, where priorities are per process and the reading thread's would fall too)
 * nothing changes.
 */
export function putTheScriptFirst(readerTid: number | undefined): ScriptFirst {
  if (readerTid === undefined) return { read: () => undefined, finish: () => Promise.resolve() };
  const othersIdle = mayThisProcessLeaveIdle();
  if (!othersIdle) {
    for (const tid of otherThreads(readerTid)) {
      try {
        setPriority(tid, LOWEST_PRIORITY);
      } catch {
        // Not allowed (a sandbox), or the thread has just ended: the agent works the same, with less regard for the script.
      }
    }
  }
  let aside = false;
  let burstBytes = 0;
  let windowStart = 0;
  /** The last change of policy, so that changes happen in order. */
  let change: Promise<void> = Promise.resolve();
  const switchTo = (reader: Policy, others: Policy): void => {
    change = change.then(() => setPolicies([[reader, readerTid], ...(othersIdle ? otherThreads(readerTid).map((tid) => [others, tid] as const) : [])]));
  };
  const comeBack = (): void => {
    if (!aside) return;
    aside = false;
    burstBytes = 0;
    switchTo('--other', '--other');
  };
  const quiet = setTimeout(comeBack, QUIET_MS_TO_COME_BACK);
  quiet.unref();
  return {
    read(bytes, gapMs) {
      if (gapMs > LONGEST_PAUSE_IN_BURST_MS) {
        burstBytes = 0;
        return;
      }
      if (aside) {
        quiet.refresh();
        return;
      }
      const now = performance.now();
      if (burstBytes === 0 || now - windowStart > BURST_WINDOW_MS) {
        windowStart = now;
        burstBytes = 0;
      }
      burstBytes += bytes;
      if (burstBytes >= BURST_BYTES_TO_STEP_ASIDE) {
        aside = true;
        switchTo('--batch', '--idle');
        quiet.refresh();
      }
    },
    async finish() {
      clearTimeout(quiet);
      comeBack();
      await change;
    },
  };
}
