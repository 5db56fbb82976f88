// JWT bearer tokens, verified with jose: HS256 with a shared secret, or RS256/ES256 with a public
// key or a JWKS URL (fetched, cached and refreshed by jose). `exp` and `nbf` are enforced with a
// small clock skew; `iss` and `aud` when configured. Claims: `scope` (space-separated) or
// `scopes` (array) for the scopes, `tasks` for task-id patterns; a claim of another shape
// rejects the token (claims.ts).
import { createRemoteJWKSet, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { KerutaError } from '@keruta/protocol';
import { readScopes, readTaskPatterns } from './claims.js';
import type { Principal, Scope } from './principal.js';

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
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key as Uint8Array, {
          algorithms,
          clockTolerance: options.clockToleranceSeconds ?? 30,
          ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
          ...(options.audience === undefined ? {} : { audience: options.audience }),
        }));
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
      return principalOf(payload);
    },
  };
}

/** The principal of a verified token; a malformed `scope`, `scopes` or `tasks` claim rejects it. */
function principalOf(payload: JWTPayload): Principal {
  const scopes = new Set<Scope>();
  for (const [name, spaceSeparated] of [['scope', true], ['scopes', false]] as const) {
    if (payload[name] === undefined) continue;
    const read = readScopes(`the token's ${name} claim`, payload[name], { spaceSeparated });
    if (!read.ok) throw new KerutaError('UNAUTHORIZED', read.problem);
    for (const scope of read.value) scopes.add(scope);
  }
  const tasks = readTaskPatterns("the token's tasks claim", payload.tasks);
  if (!tasks.ok) throw new KerutaError('UNAUTHORIZED', tasks.problem);
  return {
    subject: typeof payload.sub === 'string' ? `jwt:${payload.sub}` : 'jwt',
    scopes,
    tasks: tasks.value,
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
  };
}
