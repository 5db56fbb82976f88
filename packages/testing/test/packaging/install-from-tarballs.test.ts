// keruta installed as a new user installs it, from the tarballs `npm pack` makes and nothing
// else of the workspace: keruta-api, keruta-agent and keruta-client each in its own folder
// outside the repository, a task run and read back with the installed commands.
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@keruta/testing';
import {
  INSTALLS,
  PUBLISHED,
  betterSqlitePrebuilds,
  binPath,
  installTarballs,
  packPublished,
  run,
  startInstalledServer,
  userEnv,
  type PublishedName,
  type RunningServer,
} from './tarballs.js';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { type: string; url: string; directory: string };
  engines?: { node?: string };
  files?: string[];
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

let temp: TempDir;
let tarballs: Record<PublishedName, string>;
const dirs = { server: '', agent: '', client: '' };

beforeAll(async () => {
  temp = await makeTempDir('keruta-install-');
  tarballs = await packPublished(join(temp.path, 'tarballs'));
  const prebuilds = await betterSqlitePrebuilds(join(temp.path, 'prebuilds'));
  for (const [user, names] of Object.entries(INSTALLS) as [keyof typeof INSTALLS, readonly PublishedName[]][]) {
    dirs[user] = join(temp.path, user);
    await installTarballs(
      dirs[user],
      names.map((name) => tarballs[name]),
      user === 'server' ? { env: prebuilds.env, betterSqliteVersion: prebuilds.version } : {},
    );
  }
}, 600_000);

afterAll(async () => {
  await temp?.remove();
});

async function tarEntries(tarball: string): Promise<string[]> {
  const listed = await run('tar', ['tzf', tarball], { cwd: temp.path });
  return listed.stdout.split('\n').filter((line) => line !== '');
}

async function tarManifest(tarball: string): Promise<Manifest> {
  const read = await run('tar', ['xzOf', tarball, 'package/package.json'], { cwd: temp.path });
  return JSON.parse(read.stdout) as Manifest;
}

/** Every file under `dir`, recursively (node_modules/.bin links are skipped). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((path) => join(dir, path));
}

describe('the tarballs of `npm pack`', () => {
  it.each(PUBLISHED)('%s is publishable: version, license, repository, engines node >=20, README and LICENSE, no source, no private dependency', async (name) => {
    const tarball = tarballs[name];
    const manifest = await tarManifest(tarball);
    expect(manifest.name).toBe(name);
    expect(manifest.private).toBeUndefined();
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.license).toBe('MIT');
    expect(manifest.repository?.url).toMatch(/^git\+https:\/\/.+\.git$/);
    expect(manifest.repository?.directory).toMatch(/^packages\//);
    expect(manifest.engines?.node).toBe('>=20');
    const entries = await tarEntries(tarball);
    expect(entries).toEqual(expect.arrayContaining(['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/index.js']));
    expect(entries.filter((entry) => /^package\/(src|test)\/|\.tsbuildinfo$|\.test\.js$/.test(entry))).toEqual([]);
    for (const bin of Object.values(manifest.bin ?? {})) expect(entries).toContain(`package/${bin.replace(/^\.\//, '')}`);
    // keruta's own dependencies are packages published with it, at the version packed.
    for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
      if (!dependency.startsWith('@keruta/') && !dependency.startsWith('keruta-')) continue;
      expect(PUBLISHED as readonly string[]).toContain(dependency);
      expect(range).toBe(`^${(await tarManifest(tarballs[dependency as PublishedName])).version}`);
    }
    // Nothing runs at install but better-sqlite3's own script (in @keruta/storage's tree).
    expect(Object.keys(manifest.scripts ?? {}).filter((script) => /install/.test(script))).toEqual([]);
  });

  it("keruta-api's tarball holds the admin page's built files and needs no keruta-web", async () => {
    const entries = await tarEntries(tarballs['keruta-api']);
    expect(entries).toContain('package/admin-page/index.html');
    expect(entries.some((entry) => /^package\/admin-page\/assets\/.+\.js$/.test(entry))).toBe(true);
    const manifest = await tarManifest(tarballs['keruta-api']);
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('keruta-web');
    expect(readdirSync(join(dirs.server, 'node_modules'))).not.toContain('keruta-web');
  });

  it("better-sqlite3 got its binary from the local prebuilds folder, not a build from source", () => {
    const release = join(dirs.server, 'node_modules', 'better-sqlite3', 'build', 'Release');
    expect(readdirSync(release)).toEqual(['better_sqlite3.node']);
  });
});

describe('installed from the tarballs alone', () => {
  it("cannot reach the workspace's node_modules: a package only the workspace has is not found", async () => {
    for (const dir of Object.values(dirs)) {
      const probe = await run(process.execPath, ['-e', "require.resolve('vitest')"], { cwd: dir });
      expect(probe.code).not.toBe(0);
      expect(probe.stderr).toContain("Cannot find module 'vitest'");
    }
  });

  it('keruta-agent is light: no native module, no install script in its tree, Node 20+, `--version` prints its version', async () => {
    const tree = filesUnder(join(dirs.agent, 'node_modules'));
    expect(tree.filter((path) => path.endsWith('.node') || path.endsWith('binding.gyp'))).toEqual([]);
    for (const manifestPath of tree.filter((path) => path.endsWith('/package.json') && /node_modules\/(@[^/]+\/)?[^/]+\/package\.json$/.test(path))) {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      expect(Object.keys(manifest.scripts ?? {}).filter((script) => /^(pre|post)?install$/.test(script)), manifestPath).toEqual([]);
    }
    const bytes = tree.reduce((sum, path) => sum + statSync(path).size, 0);
    // The README gives the figure; this only catches a dependency that makes it grow several-fold.
    expect(bytes).toBeLessThan(20 * 1024 * 1024);
    const version = await run(binPath(dirs.agent, 'keruta-agent'), ['--version'], { cwd: dirs.agent });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe((await tarManifest(tarballs['keruta-agent'])).version);
  });

  it("a task: keruta-api with an API key as its README says, the agent's run of a failing script, read back with keruta logs and keruta tasks", async () => {
    // keruta-api's README: make a key, then start in apikey mode; the store is ./data/keruta.db.
    const keysFile = join(dirs.server, 'data', 'api-keys.yaml');
    const keys = await run(binPath(dirs.server, 'keruta-api'), ['keys', 'create', '--scopes', 'logs:read,logs:write', '--name', 'ci'], {
      cwd: dirs.server,
      env: userEnv({ KERUTA_API_KEYS_FILE: keysFile }),
    });
    expect(keys.code, keys.stderr).toBe(0);
    const apiKey = keys.stdout.split('\n')[0] ?? '';
    expect(apiKey).toMatch(/^krt_/);

    await using server: RunningServer = await startInstalledServer(binPath(dirs.server, 'keruta-api'), ['--port', '0'], {
      cwd: dirs.server,
      env: userEnv({ KERUTA_AUTH_MODE: 'apikey', KERUTA_API_KEYS_FILE: keysFile }),
    });
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(200);
    const page = await fetch(`${server.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<!DOCTYPE html>');
    expect((await fetch(`${server.baseUrl}/api/v1/tasks`)).status).toBe(401);

    // keruta-agent's README: the server's addresses and the key in KERUTA_* variables.
    const script = join(dirs.agent, 'build.sh');
    writeFileSync(script, '#!/bin/sh\necho "compiling"\necho "ERROR test failed" >&2\necho "done"\nexit 3\n');
    chmodSync(script, 0o755);
    const agentEnv = userEnv({
      KERUTA_API_URL: `${server.baseUrl}/api/v1`,
      KERUTA_WEBSOCKET_URL: `${server.baseUrl.replace(/^http/, 'ws')}/ws/tasks`,
      KERUTA_API_KEY: apiKey,
      XDG_STATE_HOME: join(dirs.agent, 'state'),
    });
    const executed = await run(binPath(dirs.agent, 'keruta-agent'), ['execute', '--task-id', 'build-42', '--script', './build.sh'], { cwd: dirs.agent, env: agentEnv });
    expect(executed.code, executed.stderr).toBe(3);
    expect(executed.stdout).toBe('compiling\ndone\n');
    expect(executed.stderr).toContain('ERROR test failed');

    // keruta-client's README: `keruta logs`, `keruta logs -f` (3: the task failed), `keruta tasks`.
    const clientEnv = userEnv({ KERUTA_API_KEY: apiKey });
    const logs = await run(binPath(dirs.client, 'keruta'), ['logs', 'build-42', '--server', server.baseUrl], { cwd: dirs.client, env: clientEnv });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/stdout INFO +compiling\n/);
    expect(logs.stdout).toMatch(/stderr ERROR +ERROR test failed\n/);
    expect(logs.stdout).toMatch(/agent +ERROR +exited with code 3\n/);
    const followed = await run(binPath(dirs.client, 'keruta'), ['logs', 'build-42', '-f', '--json', '--server', server.baseUrl], { cwd: dirs.client, env: clientEnv });
    expect(followed.code).toBe(3);
    const messages = followed.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { message: string; seq: number }));
    expect(messages.map((entry) => entry.seq)).toEqual(messages.map((_, index) => index + 1));
    expect(messages.map((entry) => entry.message)).toEqual(expect.arrayContaining(['compiling', 'ERROR test failed', 'done']));
    const tasks = await run(binPath(dirs.client, 'keruta'), ['tasks', '--json', '--server', server.baseUrl], { cwd: dirs.client, env: clientEnv });
    expect(tasks.code).toBe(0);
    expect(JSON.parse(tasks.stdout.trim())).toMatchObject({ taskId: 'build-42', status: 'failed', exitCode: 3 });

    // keruta-client's library, imported from its install.
    const imported = await run(
      process.execPath,
      ['--input-type=module', '-e', "import { LogStreamingClient, createRestClient } from 'keruta-client'; console.log(typeof LogStreamingClient, typeof createRestClient);"],
      { cwd: dirs.client },
    );
    expect(imported.stdout.trim(), imported.stderr).toBe('function function');

    const stopped = await server.stop('SIGTERM');
    expect(stopped.code).toBe(0);
  }, 120_000);
});
