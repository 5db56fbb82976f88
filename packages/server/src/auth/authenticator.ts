// The one place that turns a credential into a Principal, for every auth mode.
import { KerutaError } from '@keruta/protocol';
import type { ServerConfig } from '../config.js';
import { createApiKeyVerifier } from './api-keys.js';
import type { Credential } from './credentials.js';
import { createJwtVerifier } from './jwt-verifier.js';
import { LOOPBACK_PRINCIPAL, type Principal } from './principal.js';

export interface Authenticator {
  readonly mode: ServerConfig['auth']['mode'];
  /** Resolves to who the credential belongs to; rejects with UNAUTHORIZED. */
  authenticate(credential: Credential | undefined): Promise<Principal>;
}

export async function createAuthenticator(auth: ServerConfig['auth']): Promise<Authenticator> {
  switch (auth.mode) {
    case 'none':
      return { mode: 'none', authenticate: async () => LOOPBACK_PRINCIPAL };
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
        async authenticate(credential) {
          if (credential === undefined) throw new KerutaError('UNAUTHORIZED', 'send a token: Authorization: Bearer <jwt>');
          if (credential.kind !== 'bearer') throw new KerutaError('UNAUTHORIZED', 'this server takes JWT bearer tokens, not API keys');
          return verifier.verify(credential.value);
        },
      };
    }
    case 'apikey': {
      if (auth.apiKeysFile === undefined) throw new Error('KERUTA_AUTH_MODE=apikey needs KERUTA_API_KEYS_FILE');
      const verifier = createApiKeyVerifier(auth.apiKeysFile);
      return {
        mode: 'apikey',
        async authenticate(credential) {
          if (credential === undefined) throw new KerutaError('UNAUTHORIZED', 'send an API key: X-API-Key: <key>');
          return verifier.verify(credential.value);
        },
      };
    }
  }
}
