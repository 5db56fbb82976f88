// Open WebSockets per credential (maxConnectionsPerCredential), whichever way the credential came:
// the upgrade's header or `token` query, or a later `auth` message. One socket holds at most one
// slot, that of the credential it uses now.
import type { WebSocket } from 'ws';

export interface CredentialSlots {
  /** Takes a slot of `key` for `ws` (giving back the one it held); false when `key` has none left. */
  claim(ws: WebSocket, key: string): boolean;
}

export function createCredentialSlots(maxPerCredential: number): CredentialSlots {
  const open = new Map<string, number>();
  const held = new WeakMap<WebSocket, string>();
  const release = (key: string): void => {
    const left = (open.get(key) ?? 1) - 1;
    if (left <= 0) open.delete(key);
    else open.set(key, left);
  };
  return {
    claim(ws, key) {
      const before = held.get(ws);
      if (before === key) return true;
      if ((open.get(key) ?? 0) >= maxPerCredential) return false;
      open.set(key, (open.get(key) ?? 0) + 1);
      if (before === undefined) {
        ws.once('close', () => {
          const last = held.get(ws);
          if (last !== undefined) release(last);
        });
      } else {
        release(before);
      }
      held.set(ws, key);
      return true;
    },
  };
}
