// Revocation reaches open connections: when the authenticator says credentials may have changed
// (the API keys file was read again), every open WebSocket checks its credential again and is
// closed with UNAUTHORIZED if it no longer passes (ConnectionHandle.recheck).
import type { Authenticator } from '../auth/authenticator.js';

export interface Recheckable {
  recheck(): Promise<void>;
}

/** Returns the function that stops watching. */
export function watchCredentials(authenticator: Authenticator, connections: () => Iterable<Recheckable>): () => void {
  return authenticator.onChange(() => {
    for (const connection of connections()) void connection.recheck();
  });
}
