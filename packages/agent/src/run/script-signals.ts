// SIGINT, SIGTERM and SIGHUP that reach the agent while the script runs are passed on to it, straight
// from the main thread (the reading thread may be waiting on a slow terminal): to its whole process
// group when it leads one, so that whatever it started gets them too. Those that come before the
// script's pid is known are passed on as soon as it is.
import type { AgentLog } from '../agent-log.js';

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface SignalForwarding {
  /** The script started as `pid`; `group`: it leads a process group of its own. */
  spawned(pid: number, group: boolean): void;
  /** The script has ended: the signals are the agent's own again. */
  stop(): void;
}

export function forwardSignals(log: AgentLog): SignalForwarding {
  let scriptPid: number | undefined;
  /** The script leads a process group of its own: signals go to the whole group, whatever it started included. */
  let scriptGroup = false;
  /** Signals that came before the reading thread said which pid the script has. */
  const early: NodeJS.Signals[] = [];
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (scriptPid !== undefined && scriptPid > 0) process.kill(scriptGroup ? -scriptPid : scriptPid, signal);
    } catch {
      // The script is already gone; its exit is on its way.
    }
  };
  const forward = (signal: NodeJS.Signals): void => {
    log.info(`received ${signal}; passed on to the script${scriptGroup ? ' and all it started' : ''}`);
    if (scriptPid === undefined) early.push(signal);
    else kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);

  return {
    spawned(pid, group) {
      scriptPid = pid;
      scriptGroup = group;
      for (const signal of early.splice(0)) kill(signal);
    },
    stop() {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    },
  };
}
