// `keruta-api keys create|list|revoke`: manages the API keys file. A new key is printed once;
// only its hash is stored.
import { parseArgs } from 'node:util';
import { createApiKey, readApiKeysFile, writeApiKeysFile } from './auth/api-keys.js';
import { ConfigError } from './config.js';

export interface KeysCommandIo {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  out: (text: string) => void;
}

export function runKeysCommand({ argv, env, out }: KeysCommandIo): number {
  const [action, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        scopes: { type: 'string' },
        tasks: { type: 'string' },
        name: { type: 'string' },
        file: { type: 'string' },
      },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const file = parsed.values.file ?? env.KERUTA_API_KEYS_FILE;
  if (file === undefined || file === '') throw new ConfigError('keys: give --file or set KERUTA_API_KEYS_FILE');
  const list = (value: string | undefined): string[] =>
    (value ?? '').split(',').map((v) => v.trim()).filter((v) => v !== '');
  switch (action) {
    case 'create': {
      let created;
      try {
        created = createApiKey({
          scopes: list(parsed.values.scopes),
          tasks: list(parsed.values.tasks),
          ...(parsed.values.name === undefined ? {} : { name: parsed.values.name }),
        });
      } catch (error) {
        throw new ConfigError((error as Error).message);
      }
      writeApiKeysFile(file, [...readApiKeysFile(file), created.stored]);
      out(`${created.key}\n`);
      out(`# key ${created.stored.id} with ${created.stored.scopes.join(', ')}${created.stored.tasks ? ` for tasks ${created.stored.tasks.join(', ')}` : ''} stored in ${file}; this is the only time it is shown\n`);
      return 0;
    }
    case 'list':
      for (const key of readApiKeysFile(file)) {
        out(`${key.id}\t${key.scopes.join(',')}\t${key.tasks?.join(',') ?? '*'}\t${key.name ?? ''}\t${key.createdAt}\n`);
      }
      return 0;
    case 'revoke': {
      const id = parsed.positionals[0];
      const keys = readApiKeysFile(file);
      if (id === undefined || !keys.some((k) => k.id === id)) throw new ConfigError(`keys revoke: no key with id ${JSON.stringify(id ?? '')} in ${file}`);
      writeApiKeysFile(file, keys.filter((k) => k.id !== id));
      out(`revoked ${id}\n`);
      return 0;
    }
    default:
      throw new ConfigError('keys: use "keys create --scopes …", "keys list" or "keys revoke ID"');
  }
}
