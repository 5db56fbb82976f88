// Sends spooled runs that earlier agents left behind: `keruta-agent flush`, and the start of every
// `execute` (for any task). Each task gets its own connection; a run is claimed (locked) first, so
// two agents never send the same run at once.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AgentLog } from '../agent-log.js';
import type { AgentConfig } from '../config.js';
import { replayIntake } from '../process/intake-replay.js';
import { listSpooledRuns } from '../run/run-directory.js';
import { createDelivery, type Delivery, type FinishResult } from './delivery.js';
import { claimRun, type RunSpool } from './spool.js';

/** Tasks whose leftovers are sent at the same time. */
const PARALLEL_TASKS = 4;

export interface SpooledRunsResult {
  readonly runs: number;
  readonly acknowledged: number;
  readonly duplicates: number;
  readonly kept: number;
  readonly dirs: readonly string[];
  readonly failures: readonly string[];
}

/**
 * Turns what a killed agent had read but not processed into entries (intake-replay.ts), so that
 * the run can be delivered. On a disk error the rest stays in the intake for a later try; what is
 * spooled is sent now.
 */
export async function prepareRun(run: RunSpool, log: AgentLog): Promise<void> {
  let reason: string | undefined;
  try {
    const replayed = await replayIntake(run);
    if (!replayed.ok) reason = replayed.reason;
  } catch (error) {
    // A damaged intake (a failing disk): what is spooled is still sent; the rest is left for a person to look at.
    reason = (error as Error).message;
  }
  if (reason !== undefined) log.warn(`cannot replay the output kept in ${run.dir} (${reason}); it stays there for a later run`);
}

/** Claims every run in the spool directory that no live agent holds, except those in `skip`. */
export function claimSpooledRuns(spoolDir: string, options: { skip?: ReadonlySet<string>; taskId?: string } = {}): RunSpool[] {
  const claimed: RunSpool[] = [];
  for (const { dir, info } of listSpooledRuns(spoolDir)) {
    if (options.skip?.has(info.runId) === true) continue;
    if (options.taskId !== undefined && info.taskId !== options.taskId) continue;
    const run = claimRun(dir);
    if (run !== undefined) claimed.push(run);
  }
  return claimed;
}

/** Delivers claimed runs, task by task, until all are acknowledged, attempts run out, or `signal` aborts. */
export async function deliverSpooledRuns(
  runs: readonly RunSpool[],
  context: { config: AgentConfig; log: AgentLog; signal?: AbortSignal },
): Promise<SpooledRunsResult> {
  const byTask = new Map<string, RunSpool[]>();
  for (const run of runs) byTask.set(run.taskId, [...(byTask.get(run.taskId) ?? []), run]);
  const queue = [...byTask.entries()];
  const results: { result: FinishResult; acknowledged: number; duplicates: number }[] = [];

  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [taskId, taskRuns] = next;
      for (const run of taskRuns) await prepareRun(run, context.log);
      const delivery = createDelivery({ taskId, config: context.config, log: context.log });
      for (const run of taskRuns) delivery.add(run);
      context.log.info(`sending ${taskRuns.reduce((n, r) => n + r.lastSeq - r.ackedSeq, 0)} kept lines of task ${taskId}`);
      const result = await delivery.finish(Number.MAX_SAFE_INTEGER, context.signal);
      results.push({ result, acknowledged: delivery.stats.acknowledged, duplicates: delivery.stats.duplicates });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_TASKS, queue.length) }, worker));

  return {
    runs: runs.length,
    acknowledged: results.reduce((n, r) => n + r.acknowledged, 0),
    duplicates: results.reduce((n, r) => n + r.duplicates, 0),
    kept: results.reduce((n, r) => n + r.result.kept, 0),
    dirs: results.flatMap((r) => r.result.dirs),
    failures: results.flatMap((r) => (r.result.failure === undefined ? [] : [`${r.result.failure.code}: ${r.result.failure.message}`])),
  };
}

export interface Leftovers {
  /** This task's leftovers are replayed and on the delivery, the live run after them. */
  readonly ready: Promise<void>;
  /** Other tasks' leftovers, sent on connections of their own; undefined when there are none. */
  readonly others: Promise<SpooledRunsResult> | undefined;
  /** Stops sending other tasks' leftovers (the exit timeout passed, or the user will not wait). */
  stop(): void;
}

/**
 * At the start of `execute`: the claimed runs earlier agents left go first on `delivery` when they
 * are this task's, and `live` after them; other tasks' go on connections of their own. Their replay
 * (if their agent was killed) waits until the script has started and yields as it goes: a big one
 * delays delivery, not the script.
 */
export function sendLeftovers(
  leftovers: readonly RunSpool[],
  context: { taskId: string; config: AgentConfig; log: AgentLog; delivery: Delivery; live: RunSpool },
): Leftovers {
  const { taskId, config, log, delivery } = context;
  const own = leftovers.filter((r) => r.taskId === taskId);
  const ready = (async () => {
    await nextTurn();
    for (const run of own) {
      await prepareRun(run, log);
      delivery.add(run);
    }
    delivery.add(context.live);
  })();
  const stopping = new AbortController();
  const otherTasks = leftovers.filter((r) => r.taskId !== taskId);
  const others = otherTasks.length === 0 ? undefined : nextTurn().then(() => deliverSpooledRuns(otherTasks, { config, log, signal: stopping.signal }));
  return { ready, others, stop: () => stopping.abort() };
}

/** `keruta-agent flush`: exit status 0 when nothing is left in the spool, 1 otherwise. */
export async function runFlush(context: { config: AgentConfig; log: AgentLog; taskId?: string; signal?: AbortSignal }): Promise<number> {
  const { config, log } = context;
  const spoolDir = config.logStreaming.spoolDir;
  const runs = claimSpooledRuns(spoolDir, context.taskId === undefined ? {} : { taskId: context.taskId });
  const held = listSpooledRuns(spoolDir).filter((r) => context.taskId === undefined || r.info.taskId === context.taskId).length - runs.length;
  // Runs that running agents hold are theirs to send; they are not this command's failure.
  if (held > 0) log.info(`${held} runs are being sent by running agents`);
  if (runs.length === 0) {
    log.info(`nothing to send in ${spoolDir}`);
    return 0;
  }
  const result = await deliverSpooledRuns(runs, context.signal === undefined ? { config, log } : { config, log, signal: context.signal });
  log.info(`sent ${result.acknowledged} lines of ${result.runs} runs (${result.duplicates} were already stored)`);
  if (result.kept === 0) return 0;
  const reason = result.failures[0] === undefined ? '' : ` (${result.failures[0]})`;
  log.warn(`${result.kept} lines could not be delivered${reason}; kept in ${result.dirs.join(', ')}`);
  return 1;
}
