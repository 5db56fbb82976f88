// What the packaging tests share: the packages packed with `npm pack`, installed from those
// tarballs alone into folders outside the workspace, and commands run there as a user runs them
// (an environment without the workspace's node_modules/.bin or npm's variables).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../../../..', import.meta.url));

/** The packages a user installs, and the libraries they need: the packages published. */
export const PUBLISHED = ['@keruta/protocol', '@keruta/settings', '@keruta/storage', 'keruta-api', 'keruta-agent', 'keruta-client'] as const;
export type PublishedName = (typeof PUBLISHED)[number];

/** What each command's user installs, as its README says. */
export const INSTALLS = {
  server: ['@keruta/protocol', '@keruta/settings', '@keruta/storage', 'keruta-api'],
  agent: ['@keruta/protocol', '@keruta/settings', 'keruta-agent'],
  client: ['@keruta/protocol', '@keruta/settings', 'keruta-client'],
} as const satisfies Record<string, readonly PublishedName[]>;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

/**
 * The environment a user's shell would give: this one without npm's `npm_*` variables, NODE_PATH
 * and the workspace's `node_modules/.bin` folders on PATH, plus `extra` (an `undefined` removes).
 */
export function userEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^npm_/i.test(key) || key === 'NODE_PATH' || key === 'INIT_CWD' || key.startsWith('VITEST')) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => !entry.includes('node_modules'))
    .join(delimiter);
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs a command to its end; a command still running after `timeoutMs` is killed and fails the test. */
export async function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const { cwd, env = userEnv(), input, timeoutMs = 120_000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not end within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** Packs every published package of the built workspace into `dest`; its tarball by package name. */
export async function packPublished(dest: string): Promise<Record<PublishedName, string>> {
  await mkdir(dest, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', dest, ...PUBLISHED.flatMap((name) => ['-w', name])];
  const result = await run('npm', args, { cwd: repositoryRoot, env: userEnv() });
  if (result.code !== 0) throw new Error(`npm pack failed (${result.code}):\n${result.stderr}`);
  const packed = JSON.parse(result.stdout) as { name: PublishedName; filename: string }[];
  const tarballs = {} as Record<PublishedName, string>;
  for (const { name, filename } of packed) tarballs[name] = join(dest, filename);
  return tarballs;
}

/**
 * better-sqlite3's install script fetches a prebuilt binary from GitHub, else compiles one (about a
 * minute, with python3, make and g++). Only the npm registry is reachable here, so the binary the
 * workspace built goes into a local-prebuilds folder, the documented way for a host without GitHub
 * (`npm_config_better_sqlite3_local_prebuilds`); the install script then unpacks it as it would a
 * download. Returns the environment for `npm install` and the version that binary is for.
 */
export async function betterSqlitePrebuilds(dir: string): Promise<{ env: Record<string, string>; version: string }> {
  const packageJson = createRequire(join(repositoryRoot, 'packages/storage/package.json')).resolve('better-sqlite3/package.json');
  const packageDir = dirname(packageJson);
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const binary = 'build/Release/better_sqlite3.node';
  if (!existsSync(join(packageDir, binary))) throw new Error(`the workspace's better-sqlite3 has no ${binary}: run npm ci`);
  await mkdir(dir, { recursive: true });
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const tar = await run('tar', ['czf', join(dir, name), '-C', packageDir, binary], { cwd: dir });
  if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  return { env: { npm_config_better_sqlite3_local_prebuilds: dir }, version };
}

/**
 * `npm install`s `tarballs` into `dir`, a new folder with an empty package.json, taking third-party
 * packages from npm's cache first and the registry for what it lacks.
 */
export async function installTarballs(
  dir: string,
  tarballs: readonly string[],
  { env = {}, betterSqliteVersion }: { env?: Record<string, string>; betterSqliteVersion?: string } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  // The prebuilt binary fits one better-sqlite3 version: the workspace's (within keruta's range).
  const overrides = betterSqliteVersion === undefined ? {} : { overrides: { 'better-sqlite3': betterSqliteVersion } };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'keruta-install-test', private: true, ...overrides }, null, 2)}\n`);
  const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', ...tarballs];
  const result = await run('npm', args, { cwd: dir, env: userEnv(env), timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`npm install in ${dir} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
}

/** The path of an installed command, `node_modules/.bin/NAME` under `dir`. */
export function binPath(dir: string, name: string): string {
  return join(dir, 'node_modules', '.bin', name);
}

export interface RunningServer extends AsyncDisposable {
  /** Where to reach it: the printed address, with 0.0.0.0 replaced by 127.0.0.1. */
  readonly baseUrl: string;
  readonly stderr: string;
  /** Sends `signal` and waits for the exit: the exit status and how long it took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Starts an installed keruta-api (`command args`) and waits for `keruta-api listening on URL`. */
export async function startInstalledServer(command: string, args: readonly string[], { cwd, env }: { cwd: string; env: Record<string, string> }): Promise<RunningServer> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const printed = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keruta-api did not start within 30 s:\n${out}\n${stderr}`));
    }, 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`keruta-api exited with ${code} before listening:\n${out}\n${stderr}`));
    });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const started = Date.now();
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const end = await exited;
    return { ...end, ms: Date.now() - started };
  };
  return {
    baseUrl: printed.replace('://0.0.0.0:', '://127.0.0.1:'),
    get stderr() {
      return stderr;
    },
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop('SIGKILL');
    },
  };
}
