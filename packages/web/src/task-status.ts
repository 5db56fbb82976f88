// A task's status as the page words and colours it: running, succeeded, failed (with the exit
// code), or unknown (lines but no agent events, or no lines yet).
import type { TaskStatus } from '@keruta/protocol';

export interface StatusLike {
  status: TaskStatus;
  exitCode?: number;
}

export function statusText({ status, exitCode }: StatusLike): string {
  if (status === 'failed') return exitCode === undefined ? 'failed' : `failed (exit ${exitCode})`;
  if (status === 'succeeded') return exitCode === undefined || exitCode === 0 ? 'succeeded' : `succeeded (exit ${exitCode})`;
  return status;
}

export function setStatusBadge(badge: HTMLElement, status: StatusLike | undefined, fallback = 'no lines yet'): void {
  badge.className = `badge status-${status?.status ?? 'unknown'}`;
  badge.textContent = status === undefined ? fallback : statusText(status);
}
