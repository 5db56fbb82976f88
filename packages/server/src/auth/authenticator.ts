// The one place that turns a credential into a Principal, for every auth mode, and that counts
// the credentials it refuses per client address (failure-limiter.ts).
import { KerutaError, isKerutaError } from '@keruta/protocol';
import type { ServerConfig } from '../config.js';
import { createApiKeyVerifier, type KeysFileLogger } from './api-keys.js';
import type { Credential } from './credentials.js';
import type { FailureLimiter } from './failure-limiter.js';
import { createJwtVerifier } from './jwt-verifier.js';
import { LOOPBACK_PRINCIPAL, type Principal } from './principal.js';

/** Where a credential came from, for the limit on refused credentials per address. */
export interface AuthAttempt {
  address: string;
}

export interface Authenticator {
  readonly mode: ServerConfig['auth']['mode'];
  /**
   * Resolves to who the credential belongs to; rejects with UNAUTHORIZED, or with
   * RATE_LIMIT_EXCEEDED when `attempt`'s address has had too many credentials refused. A check
   * of a credential already in use (after the keys file changed) passes no attempt.
   */
  authenticate(credential: Credential | undefined, attempt?: AuthAttempt): Promise<Principal>;
  /** `listener` runs when credentials that were valid may no longer be (the keys file changed). */
  onChange(listener: () => void): () => void;
  close(): void;
}

export interface AuthenticatorOptions {
  logger?: KeysFileLogger;
  failures?: FailureLimiter;
}

type Verify = (credential: Credential | undefined) => Promise<Principal>;

export async function createAuthenticator(auth: ServerConfig['auth'], options: AuthenticatorOptions = {}): Promise<Authenticator> {
  const { failures } = options;
  const guarded =
    (verify: Verify): Authenticator['authenticate'] =>
    async (credential, attempt) => {
      // No credential is no guess: it is answered UNAUTHORIZED without being counted.
      if (attempt === undefined || credential === undefined || failures === undefined) return verify(credential);
      const ticket = await failures.attempt(attempt.address);
      if (ticket.blockedFor > 0) {
        const wait = ticket.blockedFor;
        throw new KerutaError('RATE_LIMIT_EXCEEDED', `too many refused credentials from this address; retry in ${wait} s`, { retryAfter: wait });
      }
      try {
        const principal = await verify(credential);
        ticket.release();
        return principal;
      } catch (error) {
        // Only a refused credential counts as a guess.
        if (!isKerutaError(error) || error.code !== 'UNAUTHORIZED') ticket.release();
        throw error;
      }
    };
  const unchanging = { onChange: () => () => {}, close: () => {} };
  switch (auth.mode) {
    case 'none':
      return { mode: 'none', authenticate: async () => LOOPBACK_PRINCIPAL, ...unchanging };
    case 'jwt': {
      const verifier = await createJwtVerifier({
        ...(auth.jwtSecret === undefined ? {} : { secret: auth.jwtSecret }),
        ...(auth.jwtPublicKey === undefined ? {} : { publicKey: auth.jwtPublicKey }),
        ...(auth.jwksUrl === undefined ? {} : { jwksUrl: auth.jwksUrl }),
        ...(auth.jwtIssuer === undefined ? {} : { issuer: auth.jwtIssuer }),
        ...(auth.jwtAudience === undefined ? {} : { audience: auth.jwtAudience }),
      });
      return {
        mode: 'jwt',
        // A token's expiry reaches open connections by its own timer (ws/connection.ts).
        ...unchanging,
        authenticate: guarded(async (credential) => {
          if (credential === undefined) throw new KerutaError('UNAUTHORIZED', 'send a token: Authorization: Bearer <jwt>');
          if (credential.kind !== 'bearer') throw new KerutaError('UNAUTHORIZED', 'this server takes JWT bearer tokens, not API keys');
          return verifier.verify(credential.value);
        }),
      };
    }
    case 'apikey': {
      if (auth.apiKeysFile === undefined) throw new Error('KERUTA_AUTH_MODE=apikey needs KERUTA_API_KEYS_FILE');
      const verifier = createApiKeyVerifier(auth.apiKeysFile, options.logger);
      return {
        mode: 'apikey',
        authenticate: guarded(async (credential) => {
          if (credential === undefined) throw new KerutaError('UNAUTHORIZED', 'send an API key: X-API-Key: <key>');
          return verifier.verify(credential.value);
        }),
        onChange: (listener) => verifier.onChange(listener),
        close: () => verifier.close(),
      };
    }
  }
}
