// A real keruta-api child process (the built CLI), for tests that kill it with signals and
// restart it on the same port and data.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createServer as createNetServer } from 'node:net';
import { NODE_FLAGS } from 'keruta-api';
import { makeTempDir, type TempDir } from './temp-dir.js';

export interface SpawnedServer extends AsyncDisposable {
  readonly port: number;
  readonly baseUrl: string;
  readonly apiUrl: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Everything the server wrote to stderr (its JSON log lines) since it was last started. */
  readonly stderr: string;
  /** The exit status of the last run once it has ended (null while running or when killed by a signal). */
  readonly exitCode: number | null;
  /** Sends `signal` (SIGKILL by default) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data. */
  restart(): Promise<void>;
  /** SIGTERM, wait, then remove a temp data dir. */
  stop(): Promise<void>;
}

export interface SpawnServerOptions {
  dataDir?: string;
  port?: number;
  /** KERUTA_DATABASE_URL here (or --db in `args`) replaces the SQLite file in `dataDir`. */
  env?: Record<string, string>;
  args?: string[];
  /** Flags for node itself, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

const cliPath = join(createRequire(import.meta.url).resolve('keruta-api'), '..', 'cli.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function spawnServer(options: SpawnServerOptions = {}): Promise<SpawnedServer> {
  let temp: TempDir | undefined;
  const dataDir = options.dataDir ?? (temp = await makeTempDir('keruta-server-')).path;
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let stderr = '';

  const ownDatabase = options.env?.KERUTA_DATABASE_URL !== undefined || options.args?.includes('--db') === true;
  const db = ownDatabase ? [] : ['--db', `sqlite:${join(dataDir, 'keruta.db')}`];

  const start = async (): Promise<void> => {
    stderr = '';
    const proc = spawn(
      process.execPath,
      [...NODE_FLAGS, ...(options.nodeArgs ?? []), cliPath, '--host', '127.0.0.1', '--port', String(port), ...db, ...(options.args ?? [])],
      { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`keruta-api did not start within 15 s:\n${stderr}`)), 15_000);
      proc.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`keruta-api exited with ${code} before listening:\n${stderr}`));
      });
    });
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };

  await start();
  const stop = async () => {
    await kill('SIGTERM');
    await temp?.remove();
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    port,
    baseUrl,
    apiUrl: `${baseUrl}/api/v1`,
    wsUrl: `ws://127.0.0.1:${port}/ws/tasks`,
    dataDir,
    get pid() {
      return child?.pid;
    },
    get stderr() {
      return stderr;
    },
    get exitCode() {
      return child?.exitCode ?? null;
    },
    kill,
    restart: start,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
