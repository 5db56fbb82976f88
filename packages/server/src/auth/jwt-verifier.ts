// JWT bearer tokens, verified with jose: HS256 with a shared secret, or RS256/ES256 with a public
// key or a JWKS URL (fetched, cached and refreshed by jose). `exp` and `nbf` are enforced with a
// small clock skew; `iss` and `aud` when configured. Claims: `scope` (space-separated) or
// `scopes` (array) for the scopes, `tasks` for task-id patterns.
import { createRemoteJWKSet, importSPKI, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { KerutaError } from '@keruta/protocol';
import { parseScopes, type Principal } from './principal.js';

export interface JwtOptions {
  secret?: string;
  publicKey?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  clockToleranceSeconds?: number;
}

export interface JwtVerifier {
  verify(token: string): Promise<Principal>;
}

export async function createJwtVerifier(options: JwtOptions): Promise<JwtVerifier> {
  let key: Uint8Array | Awaited<ReturnType<typeof importSPKI>> | JWTVerifyGetKey;
  let algorithms: string[];
  if (options.jwksUrl !== undefined) {
    key = createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    algorithms = ['RS256', 'ES256', 'RS384', 'ES384', 'RS512', 'PS256'];
  } else if (options.publicKey !== undefined) {
    const pem = options.publicKey;
    // The PEM does not say which algorithm it is for: an RSA key imports as RS256, an EC key as ES256.
    key = await importSPKI(pem, 'RS256').catch(() => importSPKI(pem, 'ES256'));
    algorithms = ['RS256', 'ES256'];
  } else if (options.secret !== undefined) {
    key = new TextEncoder().encode(options.secret);
    algorithms = ['HS256'];
  } else {
    throw new Error('KERUTA_AUTH_MODE=jwt needs KERUTA_JWT_SECRET, KERUTA_JWT_PUBLIC_KEY or KERUTA_JWKS_URL');
  }
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key as Uint8Array, {
          algorithms,
          clockTolerance: options.clockToleranceSeconds ?? 30,
          ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
          ...(options.audience === undefined ? {} : { audience: options.audience }),
        });
        const scopes = parseScopes(payload.scope ?? payload.scopes);
        const tasks = Array.isArray(payload.tasks) ? payload.tasks.map(String) : undefined;
        return {
          subject: typeof payload.sub === 'string' ? `jwt:${payload.sub}` : 'jwt',
          scopes,
          tasks,
          expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
        };
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        const reason =
          code === 'ERR_JWT_EXPIRED'
            ? 'the token has expired'
            : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
              ? `the token's ${(error as { claim?: string }).claim ?? 'claims'} claim is not accepted`
              : code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
                ? 'the token signature is not valid'
                : 'the token is not valid';
        throw new KerutaError('UNAUTHORIZED', reason);
      }
    },
  };
}
