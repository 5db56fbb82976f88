// API keys: random secrets shown once, stored only as SHA-256 hashes in KERUTA_API_KEYS_FILE
// (YAML or JSON: `keys: [{id, hash, scopes, tasks?, name?, createdAt}]`). The file is re-read
// when it changes, so keys can be added or revoked without a restart.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { KerutaError } from '@keruta/protocol';
import { isScope, parseScopes, type Principal, type Scope } from './principal.js';

export interface StoredApiKey {
  id: string;
  /** `sha256:<hex>` of the whole key. */
  hash: string;
  scopes: Scope[];
  tasks?: string[];
  name?: string;
  createdAt: string;
}

const PREFIX = 'krt_';

export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export function readApiKeysFile(path: string): StoredApiKey[] {
  if (!existsSync(path)) return [];
  const parsed: unknown = parseYaml(readFileSync(path, 'utf8'));
  const list = (parsed as { keys?: unknown } | null)?.keys;
  if (parsed === null || parsed === undefined) return [];
  if (!Array.isArray(list)) throw new Error(`${path}: must hold "keys:" with a list of keys`);
  return list.map((item, i) => {
    const key = item as Partial<StoredApiKey>;
    if (typeof key.id !== 'string' || typeof key.hash !== 'string' || !key.hash.startsWith('sha256:')) {
      throw new Error(`${path}: keys[${i}] needs an id and a sha256: hash`);
    }
    const scopes = Array.isArray(key.scopes) ? key.scopes.filter(isScope) : [];
    return {
      id: key.id,
      hash: key.hash,
      scopes,
      ...(Array.isArray(key.tasks) ? { tasks: key.tasks.map(String) } : {}),
      ...(typeof key.name === 'string' ? { name: key.name } : {}),
      createdAt: typeof key.createdAt === 'string' ? key.createdAt : '',
    };
  });
}

export function writeApiKeysFile(path: string, keys: readonly StoredApiKey[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringifyYaml({ keys }), { mode: 0o600 });
}

export interface CreatedApiKey {
  key: string;
  stored: StoredApiKey;
}

/** A new key: `krt_<id>_<secret>`; the id lets the server find the hash without trying each. */
export function createApiKey(options: { scopes: string[]; tasks?: string[]; name?: string }): CreatedApiKey {
  const scopes = [...parseScopes(options.scopes)];
  const unknown = options.scopes.filter((s) => !isScope(s));
  if (unknown.length > 0 || scopes.length === 0) {
    throw new Error(`--scopes: choose from logs:read, logs:write, logs:delete${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}`);
  }
  const id = randomBytes(6).toString('hex');
  const key = `${PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  const stored: StoredApiKey = {
    id,
    hash: hashApiKey(key),
    scopes,
    ...(options.tasks === undefined || options.tasks.length === 0 ? {} : { tasks: options.tasks }),
    ...(options.name === undefined ? {} : { name: options.name }),
    createdAt: new Date().toISOString(),
  };
  return { key, stored };
}

export interface ApiKeyVerifier {
  verify(key: string): Principal;
}

export function createApiKeyVerifier(path: string): ApiKeyVerifier {
  let keys = new Map<string, StoredApiKey>();
  let loadedMtime = -1;
  let checkedAt = 0;
  const reload = (): void => {
    const now = Date.now();
    if (now - checkedAt < 1000) return;
    checkedAt = now;
    const mtime = existsSync(path) ? statSync(path).mtimeMs : 0;
    if (mtime === loadedMtime) return;
    keys = new Map(readApiKeysFile(path).map((k) => [k.id, k]));
    loadedMtime = mtime;
  };
  reload();
  return {
    verify(key) {
      reload();
      const id = key.startsWith(PREFIX) ? key.slice(PREFIX.length).split('_')[0] : undefined;
      const stored = id === undefined ? undefined : keys.get(id);
      const expected = Buffer.from(stored?.hash ?? hashApiKey('no such key'));
      const actual = Buffer.from(hashApiKey(key));
      if (stored === undefined || expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
        throw new KerutaError('UNAUTHORIZED', 'the API key is not valid');
      }
      return { subject: `key:${stored.id}`, scopes: new Set(stored.scopes), tasks: stored.tasks, expiresAt: undefined };
    },
  };
}
