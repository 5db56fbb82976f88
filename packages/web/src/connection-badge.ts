// The connection as the page shows it: connecting, loading history, live, reconnecting (with the
// attempt and the wait), or closed and why.
import type { ConnectionStateChange } from 'keruta-client';

export interface ConnectionView {
  state: ConnectionStateChange['state'];
  historyLoaded: boolean;
  attempt?: number;
  delayMs?: number;
  /** Why the connection is closed for good, or the last error. */
  problem?: string;
}

export function renderConnection(badge: HTMLElement, view: ConnectionView): void {
  let text: string;
  let kind: string;
  switch (view.state) {
    case 'connecting':
      text = 'connecting…';
      kind = 'connecting';
      break;
    case 'open':
      // An error on an open connection (UNAUTHORIZED before the server closes it, say) shows at once.
      text = view.problem !== undefined ? `error: ${view.problem}` : view.historyLoaded ? 'live' : 'loading history…';
      kind = view.problem !== undefined ? 'closed' : view.historyLoaded ? 'live' : 'connecting';
      break;
    case 'reconnecting':
      text = view.attempt === undefined ? 'reconnecting…' : `reconnecting (attempt ${view.attempt}${view.delayMs === undefined ? '' : `, in ${(view.delayMs / 1000).toFixed(1)} s`})`;
      kind = 'reconnecting';
      break;
    case 'closed':
      text = view.problem === undefined ? 'disconnected' : `disconnected: ${view.problem}`;
      kind = 'closed';
      break;
  }
  badge.className = `badge conn-${kind}`;
  badge.textContent = text;
  badge.dataset['state'] = view.state;
}
