// Finds the credential a request carries: `Authorization: Bearer …`, `Authorization: ApiKey …`,
// `X-API-Key: …`, or (for browsers, which cannot set WebSocket headers) a `token` query parameter.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface Credential {
  kind: 'bearer' | 'apikey';
  value: string;
  /** Where it came from: a token in a URL needs the Origin check on WebSocket upgrades. */
  from: 'header' | 'query' | 'message';
}

export function credentialFromHeaders(headers: IncomingHttpHeaders): Credential | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^\s*(Bearer|ApiKey)\s+(\S+)\s*$/i.exec(authorization);
    if (match !== null && match[1] !== undefined && match[2] !== undefined) {
      return { kind: match[1].toLowerCase() === 'bearer' ? 'bearer' : 'apikey', value: match[2], from: 'header' };
    }
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return { kind: 'apikey', value: apiKey.trim(), from: 'header' };
  return undefined;
}

export function credentialFromUrl(url: string | undefined): Credential | undefined {
  const query = url?.split('?')[1];
  if (query === undefined) return undefined;
  const token = new URLSearchParams(query).get('token');
  return token === null || token === '' ? undefined : { kind: 'bearer', value: token, from: 'query' };
}

/** The token of an `auth` message, or of a `token` query: a JWT or an API key, told apart by shape. */
export function credentialFromToken(token: string, from: Credential['from']): Credential {
  return { kind: token.split('.').length === 3 ? 'bearer' : 'apikey', value: token, from };
}

/** A stable, non-secret key for rate limits and connection counts. */
export function credentialKey(credential: Credential): string {
  return `c:${createHash('sha256').update(credential.value).digest('base64url').slice(0, 22)}`;
}
