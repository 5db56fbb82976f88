// Who one connection is: the credential of the upgrade or of an `auth` message, within the time
// allowed for it, until its token expires. Frames wait for the upgrade's check, in order.
import { isKerutaError } from '@keruta/protocol';
import type { Principal } from '../auth/principal.js';
import type { ConnectionAccess } from './connection.js';
import type { Peer } from './peer.js';

export interface ConnectionAuth {
  /** The connection's principal, once authenticated. */
  readonly principal: Principal | undefined;
  /** Settles once the upgrade's credential has been checked (closed with its error if it failed). */
  readonly ready: Promise<void>;
  /** Checks the token of an `auth` message; a refusal is reported, too many attempts close. */
  authenticate(token: string): void;
  /** Checks again the credential in use; undefined once the connection is closed for it. */
  recheck(): Promise<Principal | undefined>;
  /** Makes `who` the connection's principal, its expiry the connection's. */
  accept(who: Principal): void;
  /** Stops the timers: the connection has closed. */
  stop(): void;
}

export function createConnectionAuth(peer: Peer, access: ConnectionAccess): ConnectionAuth {
  let principal: Principal | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;

  const authTimer = setTimeout(() => {
    if (principal === undefined) peer.close('UNAUTHORIZED', `no valid credentials within ${access.authTimeoutMs} ms`);
  }, access.authTimeoutMs);
  authTimer.unref();

  const accept = (who: Principal): void => {
    principal = who;
    clearTimeout(authTimer);
    clearTimeout(expiryTimer);
    if (who.expiresAt !== undefined) {
      // A subscription outliving its token is closed so that the client renews it.
      expiryTimer = setTimeout(() => peer.close('UNAUTHORIZED', 'the token has expired; reconnect with a new one'), Math.max(0, who.expiresAt - Date.now()));
      expiryTimer.unref();
    }
  };

  const ready = access.initial.then(
    (who) => {
      if (who !== undefined) accept(who);
    },
    (error: unknown) => {
      peer.close(isKerutaError(error) ? error.code : 'UNAUTHORIZED', isKerutaError(error) ? error.message : 'credentials not accepted');
    },
  );

  return {
    get principal() {
      return principal;
    },
    ready,
    authenticate(token) {
      access.authenticate(token).then(accept, (error: unknown) => {
        if (isKerutaError(error) && error.code === 'RATE_LIMIT_EXCEEDED') peer.close(error.code, error.message);
        else peer.report(error);
      });
    },
    async recheck() {
      try {
        return await access.recheck();
      } catch (error) {
        peer.close('UNAUTHORIZED', `the credential is no longer accepted (${isKerutaError(error) ? error.message : 'revoked'}); reconnect with a valid one`);
        return undefined;
      }
    },
    accept,
    stop() {
      clearTimeout(authTimer);
      clearTimeout(expiryTimer);
    },
  };
}
