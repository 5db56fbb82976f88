// How one WebSocket's credentials are checked: the upgrade's (header or `token` query), then that
// of each `auth` message, which must find a connection slot for its credential, and, when the
// keys may have changed, the one in use again.
import type { WebSocket } from 'ws';
import { KerutaError } from '@keruta/protocol';
import type { Authenticator } from '../auth/authenticator.js';
import { credentialFromToken, credentialKey, type Credential } from '../auth/credentials.js';
import type { ConnectionAccess } from './connection.js';
import type { CredentialSlots } from './credential-slots.js';

export interface ConnectionAccessOptions {
  ws: WebSocket;
  /** The credential sent with the upgrade (its slot already claimed), if any. */
  credential: Credential | undefined;
  /** The peer's address, which failed attempts are counted against. */
  address: string;
  authenticator: Authenticator;
  slots: CredentialSlots;
  /** The refusal of a credential whose slots are all taken. */
  tooManyMessage: string;
  authTimeoutMs: number;
  messagesPerSecond: number;
  /** A credential passed: the connection no longer counts as an unauthenticated socket. */
  onAuthenticated(): void;
}

export function createConnectionAccess(options: ConnectionAccessOptions): ConnectionAccess {
  const { ws, credential, authenticator, slots } = options;
  const attempt = { address: options.address };
  const authenticated = <T>(principal: T): T => {
    options.onAuthenticated();
    return principal;
  };
  /** The credential the connection uses now: the upgrade's, then that of its last `auth` message. */
  let current = credential;
  return {
    initial:
      credential === undefined && authenticator.mode !== 'none'
        ? Promise.resolve(undefined)
        : authenticator.authenticate(credential, attempt).then(authenticated),
    async authenticate(token) {
      const sent = credentialFromToken(token, 'message');
      const principal = await authenticator.authenticate(sent, attempt);
      if (!slots.claim(ws, credentialKey(sent))) throw new KerutaError('RATE_LIMIT_EXCEEDED', options.tooManyMessage);
      current = sent;
      return authenticated(principal);
    },
    recheck: () => authenticator.authenticate(current),
    authTimeoutMs: options.authTimeoutMs,
    messagesPerSecond: options.messagesPerSecond,
  };
}
