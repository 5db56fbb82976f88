// API keys: random secrets shown once, stored only as SHA-256 hashes in KERUTA_API_KEYS_FILE
// (YAML or JSON: `keys: [{id, hash, scopes, tasks?, name?, createdAt}]`). The file is re-read
// when it changes, so keys can be added or revoked without a restart.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { KerutaError } from '@keruta/protocol';
import { ConfigError } from '../config.js';
import { readScopes, readTaskPatterns } from './claims.js';
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

/** What a keys file holds: the keys that are well-formed, and a sentence for each entry that is not. */
export interface ApiKeysFileContents {
  keys: StoredApiKey[];
  problems: string[];
}

/**
 * Reads every entry of a keys file, checking each one: an entry with unknown or no scopes, or
 * `tasks` of any shape but a list of patterns, is a problem naming the entry, never a key that
 * can do more than it says. Throws when the file as a whole cannot be read or parsed.
 */
export function parseApiKeysFile(path: string): ApiKeysFileContents {
  if (!existsSync(path)) return { keys: [], problems: [] };
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path}: is not valid YAML or JSON: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (parsed === null || parsed === undefined) return { keys: [], problems: [] };
  const list = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(list)) throw new ConfigError(`${path}: must hold "keys:" with a list of keys`);
  const keys: StoredApiKey[] = [];
  const problems: string[] = [];
  list.forEach((item, i) => {
    const key = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const entry = `${path}: keys[${i}]${typeof key.id === 'string' ? ` (id ${key.id})` : ''}`;
    if (typeof key.id !== 'string' || typeof key.hash !== 'string' || !key.hash.startsWith('sha256:')) {
      problems.push(`${entry}: needs an id and a sha256: hash`);
      return;
    }
    const scopes = readScopes('scopes', key.scopes);
    const tasks = readTaskPatterns('tasks', key.tasks);
    if (!scopes.ok || !tasks.ok) {
      problems.push(`${entry}: ${[scopes, tasks].flatMap((r) => (r.ok ? [] : [r.problem])).join('; ')}`);
      return;
    }
    keys.push({
      id: key.id,
      hash: key.hash,
      scopes: [...scopes.value],
      ...(tasks.value === undefined ? {} : { tasks: tasks.value }),
      ...(typeof key.name === 'string' ? { name: key.name } : {}),
      createdAt: typeof key.createdAt === 'string' ? key.createdAt : '',
    });
  });
  return { keys, problems };
}

/** The keys of a file in which every entry must be well-formed (start-up, `keruta-api keys`). */
export function readApiKeysFile(path: string): StoredApiKey[] {
  const { keys, problems } = parseApiKeysFile(path);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return keys;
}

/** Written to a temporary file and renamed over the old one, so that a reader never sees half a file. */
export function writeApiKeysFile(path: string, keys: readonly StoredApiKey[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, stringifyYaml({ keys }), { mode: 0o600 });
  renameSync(temporary, path);
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
  const tasks = readTaskPatterns('--tasks', options.tasks === undefined || options.tasks.length === 0 ? undefined : options.tasks);
  if (!tasks.ok) throw new Error(tasks.problem);
  const id = randomBytes(6).toString('hex');
  const key = `${PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  const stored: StoredApiKey = {
    id,
    hash: hashApiKey(key),
    scopes,
    ...(tasks.value === undefined ? {} : { tasks: tasks.value }),
    ...(options.name === undefined ? {} : { name: options.name }),
    createdAt: new Date().toISOString(),
  };
  return { key, stored };
}

export interface ApiKeyVerifier {
  verify(key: string): Principal;
  /** Called after the keys file changed and was read again: open connections check their key. */
  onChange(listener: () => void): () => void;
  close(): void;
}

/** How often the keys file is looked at for open connections: a revoked key's sockets close within this. */
const POLL_MS = 250;

/** Logs what a reload of the keys file found wrong. */
export interface KeysFileLogger {
  error(object: object, message: string): void;
}

/**
 * Keys from `path`, read again whenever the file changes. A bad entry at start-up is an error
 * naming it. On a reload a bad entry is left out (that key stops working, the others go on, a
 * revocation in the same edit takes effect) and logged; a file that cannot be parsed at all
 * (mid-edit by hand) keeps the keys read last, as it cannot say which keys it still holds.
 */
export function createApiKeyVerifier(path: string, logger?: KeysFileLogger): ApiKeyVerifier {
  const first = readApiKeysFile(path);
  let keys = new Map(first.map((k) => [k.id, k]));
  const listeners = new Set<() => void>();
  const versionOf = (): string => {
    if (!existsSync(path)) return 'missing';
    const stat = statSync(path);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  };
  let loadedVersion = versionOf();
  const reload = (): void => {
    let version: string;
    try {
      version = versionOf();
    } catch (error) {
      // Gone between the two looks (a rename over it): the next look sees the new file.
      logger?.error({ err: error }, 'api keys file: cannot be read; keeping the keys read last');
      return;
    }
    if (version === loadedVersion) return;
    loadedVersion = version;
    try {
      const read = parseApiKeysFile(path);
      for (const problem of read.problems) logger?.error({ problem }, `api keys file: entry left out: ${problem}`);
      keys = new Map(read.keys.map((k) => [k.id, k]));
    } catch (error) {
      logger?.error({ err: error }, `api keys file: ${(error as Error).message}; keeping the keys read last`);
      return;
    }
    for (const listener of listeners) listener();
  };
  const timer = setInterval(reload, POLL_MS);
  timer.unref();
  return {
    verify(key) {
      // A stat per check (microseconds): a request right after a revocation is refused.
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
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      clearInterval(timer);
      listeners.clear();
    },
  };
}
