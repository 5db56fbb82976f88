// The root Dockerfile's image and the CI recipes of docs/recipes, run here as plain processes:
// there is no Docker daemon, GitHub runner, GitLab runner, cluster or systemd on the test
// machine, so each test reads the commands and environment from the file itself and runs them
// with keruta-api and keruta-agent installed from their tarballs, against a real server. Only
// paths and the server's address are changed (/data → a temp folder, keruta.example.com → the
// test server); the `npm install keruta-agent@…` lines, which need the published package, are
// checked to name the packed version and stand for the tarball install.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { freePort, makeTempDir, readJson, type TempDir } from '@keruta/testing';
import {
  INSTALLS,
  betterSqlitePrebuilds,
  binPath,
  installTarballs,
  packPublished,
  repositoryRoot,
  run,
  startInstalledServer,
  userEnv,
  type PublishedName,
  type RunningServer,
} from './tarballs.js';

let temp: TempDir;
let serverDir: string;
let agentDir: string;
let agentVersion: string;

beforeAll(async () => {
  temp = await makeTempDir('keruta-recipes-');
  const tarballs = await packPublished(join(temp.path, 'tarballs'));
  const prebuilds = await betterSqlitePrebuilds(join(temp.path, 'prebuilds'));
  serverDir = join(temp.path, 'server');
  agentDir = join(temp.path, 'agent');
  const paths = (names: readonly PublishedName[]) => names.map((name) => tarballs[name]);
  await installTarballs(serverDir, paths(INSTALLS.server), { env: prebuilds.env, betterSqliteVersion: prebuilds.version });
  await installTarballs(agentDir, paths(INSTALLS.agent));
  agentVersion = (JSON.parse(readFileSync(join(agentDir, 'node_modules', 'keruta-agent', 'package.json'), 'utf8')) as { version: string }).version;
}, 600_000);

afterAll(async () => {
  await temp?.remove();
});

// ---- The Dockerfile, read as Docker reads it (the subset it uses) --------------------------

interface Instruction {
  keyword: string;
  args: string;
}

function dockerInstructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.search(/\s/);
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

interface FinalStage {
  stages: Instruction[][];
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
  user: string;
  volumes: string[];
  workdir: string;
  stopSignal: string;
}

function readDockerfile(): FinalStage {
  const stages: Instruction[][] = [];
  for (const instruction of dockerInstructions(readFileSync(join(repositoryRoot, 'Dockerfile'), 'utf8'))) {
    if (instruction.keyword === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  const last = stages.at(-1) ?? [];
  const all = (keyword: string) => last.filter((i) => i.keyword === keyword).map((i) => i.args);
  const one = (keyword: string) => all(keyword).at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const args of all('ENV')) {
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  const healthcheck = one('HEALTHCHECK');
  return {
    stages,
    env,
    entrypoint: JSON.parse(one('ENTRYPOINT')) as string[],
    cmd: JSON.parse(one('CMD') || '[]') as string[],
    healthcheck: JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[],
    user: one('USER'),
    volumes: all('VOLUME'),
    workdir: one('WORKDIR'),
    stopSignal: one('STOPSIGNAL') || 'SIGTERM',
  };
}

/** `docker run` lines of the README's Container section: options, and the arguments after the image. */
function readmeDockerRuns(): { options: string[]; args: string[] }[] {
  const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
  const section = /\n## Container\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const runs = [];
  for (const line of section.split('\n').filter((l) => l.startsWith('docker run '))) {
    const words = line.replace(/\s+#.*$/, '').split(/\s+/).slice(2);
    // The image is the first word that is neither an option nor an option's value.
    let at = 0;
    while (at < words.length && words[at]?.startsWith('-') === true) at += ['--rm', '-d', '-it'].includes(words[at] ?? '') ? 1 : 2;
    expect(words[at], line).toBe('keruta-api');
    runs.push({ options: words.slice(0, at), args: words.slice(at + 1) });
  }
  return runs;
}

describe('the root Dockerfile', () => {
  it('is multi-stage, runs as a non-root user with a /data volume, a HEALTHCHECK on /health and keruta-api as its entrypoint', () => {
    const image = readDockerfile();
    expect(image.stages.length).toBeGreaterThanOrEqual(2);
    expect(image.user).not.toMatch(/^(root|0)(:|$)/);
    expect(image.user).not.toBe('');
    expect(image.volumes).toContain('/data');
    expect(image.healthcheck.join(' ')).toContain('/health');
    expect(image.entrypoint).toEqual(['/opt/keruta/node_modules/.bin/keruta-api']);
    expect(image.stopSignal).toBe('SIGTERM');
    // The image installs the tarballs the tests install: the packages of INSTALLS.server.
    const runs = image.stages.flat().filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    expect(runs).toContain(`npm pack --pack-destination /tarballs ${INSTALLS.server.map((name) => `-w ${name}`).join(' ')}`);
    expect(runs).toContain('npm install --omit=dev --no-audit --no-fund /tarballs/*.tgz');
    expect(image.env.KERUTA_DATABASE_URL).toMatch(/^sqlite:\/data\//);
    expect(image.env.KERUTA_API_KEYS_FILE).toMatch(/^\/data\//);
  });

  it("its entrypoint with its defaults, as the README's docker run lines use it: keys, /health, the HEALTHCHECK command, SIGTERM, the /data volume kept", async () => {
    const image = readDockerfile();
    const volume = join(temp.path, 'docker-volume');
    mkdirSync(volume);
    const port = await freePort();
    const inContainer = (value: string) => value.replaceAll('/opt/keruta', serverDir).replace(/^\/data(?=\/|$)/, volume).replace(/(:)\/data\//, `$1${volume}/`);
    const env = (options: string[]) => {
      const vars: Record<string, string> = {};
      for (const [key, value] of Object.entries(image.env)) vars[key] = inContainer(value);
      options.forEach((option, i) => {
        if (option === '-e' || option === '--env') {
          const [key = '', value = ''] = (options[i + 1] ?? '').split('=');
          vars[key] = inContainer(value);
        }
      });
      // `-p 8080:8080` would map the container's port; here the process listens on a free one.
      vars.KERUTA_API_PORT = String(port);
      return userEnv(vars);
    };
    const entrypoint = inContainer(image.entrypoint[0] ?? '');
    const runs = readmeDockerRuns();
    const keysRun = runs.find((r) => r.args[0] === 'keys');
    const serverRun = runs.find((r) => r.options.includes('-d'));
    expect(keysRun?.options).toEqual(expect.arrayContaining(['-v']));
    expect(serverRun?.options.join(' ')).toMatch(/-v \S+:\/data/);
    expect(serverRun?.args).toEqual([]);

    const keys = await run(entrypoint, keysRun?.args ?? [], { cwd: inContainer(image.workdir), env: env(keysRun?.options ?? []) });
    expect(keys.code, keys.stderr).toBe(0);
    const apiKey = keys.stdout.split('\n')[0] ?? '';
    expect(existsSync(join(volume, 'api-keys.yaml'))).toBe(true);

    const start = () => startInstalledServer(entrypoint, [...image.cmd, ...(serverRun?.args ?? [])], { cwd: inContainer(image.workdir), env: env(serverRun?.options ?? []) });
    let server: RunningServer = await start();
    try {
      expect(server.baseUrl).toBe(`http://127.0.0.1:${port}`);
      expect(await readJson(fetch(`${server.baseUrl}/health`))).toMatchObject({ status: 'healthy' });
      const [command = '', ...args] = image.healthcheck;
      const health = await run(command, args, { cwd: volume, env: env(serverRun?.options ?? []) });
      expect(health.code, health.stderr).toBe(0);
      // Listening on every address, it asks for a key.
      expect((await fetch(`${server.baseUrl}/api/v1/tasks`)).status).toBe(401);
      const posted = await fetch(`${server.baseUrl}/api/v1/tasks/image-1/logs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-API-Key': apiKey },
        body: JSON.stringify({ source: 'stdout', level: 'INFO', message: 'kept in /data' }),
      });
      expect(posted.status).toBe(201);
      // `docker stop --stop-timeout 15`: the stop signal, and out within the 10 s it promises.
      const stopped = await server.stop(image.stopSignal as NodeJS.Signals);
      expect(stopped.code).toBe(0);
      expect(stopped.ms).toBeLessThan(15_000);
      const healthAfter = await run(command, args, { cwd: volume, env: env([]) });
      expect(healthAfter.code).toBe(1);

      server = await start();
      const page = await readJson(fetch(`${server.baseUrl}/api/v1/tasks/image-1/logs`, { headers: { 'X-API-Key': apiKey } }));
      expect(page.content.map((entry: { message: string }) => entry.message)).toEqual(['kept in /data']);
    } finally {
      await server.stop('SIGKILL');
    }
  }, 120_000);

  it('is the image of the scale-out compose file, whose keys file is in the volume at /data that the image owns', () => {
    const composePath = join(repositoryRoot, 'examples', 'scale-out', 'docker-compose.yml');
    const compose = parseYaml(readFileSync(composePath, 'utf8')) as {
      services: Record<string, { build?: { context: string; dockerfile: string }; environment?: Record<string, string>; volumes?: string[] }>;
    };
    const apis = Object.values(compose.services).filter((service) => service.build !== undefined);
    expect(apis.length).toBe(2);
    for (const service of apis) {
      expect(join(repositoryRoot, 'examples', 'scale-out', service.build?.context ?? '', service.build?.dockerfile ?? '')).toBe(join(repositoryRoot, 'Dockerfile'));
      expect(service.environment?.KERUTA_API_KEYS_FILE).toMatch(/^\/data\//);
      expect(service.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/:\/data$/)]));
    }
    expect(readFileSync(composePath, 'utf8')).toMatch(/run --rm keruta-a \\\n#\s+keys create /);
  });
});

// ---- The CI recipes -----------------------------------------------------------------------

const RECIPES = join(repositoryRoot, 'docs', 'recipes');

describe('the CI recipes of docs/recipes', () => {
  let server: RunningServer;
  let readKey: string;
  const keysFile = () => join(temp.path, 'recipes-keys', 'api-keys.yaml');

  beforeAll(async () => {
    const made = await makeKey(['--scopes', 'logs:read', '--name', 'reader']);
    readKey = made;
    server = await startInstalledServer(binPath(serverDir, 'keruta-api'), ['--port', '0', '--db', `sqlite:${join(temp.path, 'recipes.db')}`], {
      cwd: temp.path,
      env: userEnv({ KERUTA_AUTH_MODE: 'apikey', KERUTA_API_KEYS_FILE: keysFile() }),
    });
  }, 60_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  async function makeKey(args: readonly string[]): Promise<string> {
    const made = await run(binPath(serverDir, 'keruta-api'), ['keys', 'create', ...args], { cwd: temp.path, env: userEnv({ KERUTA_API_KEYS_FILE: keysFile() }) });
    expect(made.code, made.stderr).toBe(0);
    return made.stdout.split('\n')[0] ?? '';
  }

  /** The key a recipe's comment says to make (its `keruta-api keys create …` line), made so. */
  async function recipeKey(text: string): Promise<string> {
    const line = /keruta-api keys create (.+)$/m.exec(text)?.[1] ?? '';
    expect(line).not.toBe('');
    const args = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
    return makeKey(args);
  }

  /** keruta.example.com, the recipes' server, becomes the test server. */
  function toTestServer(value: string): string {
    return value.replaceAll('https://keruta.example.com', server.baseUrl).replaceAll('wss://keruta.example.com', server.baseUrl.replace(/^http/, 'ws'));
  }

  /** A checkout with the recipes' `./ci/build.sh`. */
  function checkout(name: string, exitCode: number): string {
    const dir = join(temp.path, name);
    mkdirSync(join(dir, 'ci'), { recursive: true });
    writeFileSync(join(dir, 'ci', 'build.sh'), `#!/bin/sh\necho "building ${name}"\necho "ERROR flaky test" >&2\nexit ${exitCode}\n`);
    chmodSync(join(dir, 'ci', 'build.sh'), 0o755);
    return dir;
  }

  /** The agent installed "globally": the tarball install's commands on PATH. */
  function withAgentOnPath(env: Record<string, string>): Record<string, string> {
    const base = userEnv(env);
    return { ...base, PATH: `${join(agentDir, 'node_modules', '.bin')}:${base.PATH ?? ''}` };
  }

  async function storedMessages(taskId: string): Promise<string[]> {
    const page = await readJson(fetch(`${server.baseUrl}/api/v1/tasks/${taskId}/logs?size=100`, { headers: { 'X-API-Key': readKey } }));
    return (page.content ?? []).map((entry: { message: string }) => entry.message);
  }

  it('GitHub Actions: the run steps with their env and the secret; the step fails with the script, its lines are stored', async () => {
    const text = readFileSync(join(RECIPES, 'github-actions.yml'), 'utf8');
    const secret = await recipeKey(text);
    const workflow = parseYaml(text) as { jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown>; run?: string; env?: Record<string, string> }[] }> };
    const steps = Object.values(workflow.jobs)[0]?.steps ?? [];
    expect(steps.find((step) => step.uses?.startsWith('actions/setup-node') === true)?.with?.['node-version']).toBeGreaterThanOrEqual(20);
    const runSteps = steps.filter((step) => step.run !== undefined);
    expect(runSteps[0]?.run?.trim()).toBe(`npm install --global keruta-agent@${agentVersion}`);

    for (const exitCode of [0, 5]) {
      const dir = checkout(`github-${exitCode}`, exitCode);
      const summary = join(dir, 'summary.md');
      for (const step of runSteps.slice(1)) {
        const env: Record<string, string> = { GITHUB_RUN_ID: `90${exitCode}`, GITHUB_RUN_ATTEMPT: '1', GITHUB_STEP_SUMMARY: summary };
        for (const [key, value] of Object.entries(step.env ?? {})) {
          env[key] = toTestServer(value.replace('${{ secrets.KERUTA_API_KEY }}', secret));
          expect(env[key], `${key}: only the secret is an expression`).not.toContain('${{');
        }
        expect(step.run).not.toContain('${{');
        // GitHub's default shell for run steps.
        const ran = await run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run ?? ''], { cwd: dir, env: withAgentOnPath(env) });
        expect(ran.code, ran.stderr).toBe(exitCode);
        expect(ran.stdout).toContain(`building github-${exitCode}`);
      }
      expect(readFileSync(summary, 'utf8')).toContain(`?taskId=gh-90${exitCode}-1`);
      expect(await storedMessages(`gh-90${exitCode}-1`)).toEqual(expect.arrayContaining([`building github-${exitCode}`, 'ERROR flaky test']));
    }
  }, 120_000);

  it('GitLab CI: the script lines with the job variables and the masked KERUTA_API_KEY; the job fails with the script, its lines are stored', async () => {
    const text = readFileSync(join(RECIPES, 'gitlab-ci.yml'), 'utf8');
    const secret = await recipeKey(text);
    const job = Object.values(parseYaml(text) as Record<string, { image: string; variables: Record<string, string>; before_script: string[]; script: string[] }>)[0];
    expect(job?.image).toMatch(/^node:(2\d|[3-9]\d)/);
    expect(job?.before_script).toEqual([`npm install --global keruta-agent@${agentVersion}`]);

    for (const exitCode of [0, 4]) {
      const dir = checkout(`gitlab-${exitCode}`, exitCode);
      const env: Record<string, string> = { CI_PIPELINE_ID: '77', CI_JOB_ID: `8${exitCode}`, KERUTA_API_KEY: secret };
      for (const [key, value] of Object.entries(job?.variables ?? {})) env[key] = toTestServer(value);
      // A runner stops the job at the first line that fails.
      const ran = await run('bash', ['-e', '-c', (job?.script ?? []).join('\n')], { cwd: dir, env: withAgentOnPath(env) });
      expect(ran.code, ran.stderr).toBe(exitCode);
      expect(ran.stdout).toContain(`?taskId=gitlab-77-8${exitCode}`);
      expect(await storedMessages(`gitlab-77-8${exitCode}`)).toEqual(expect.arrayContaining([`building gitlab-${exitCode}`, 'ERROR flaky test']));
    }
  }, 120_000);

  it("Kubernetes Job: the container's command with its env, the key from the Secret and the ConfigMap's script; the pod's status is the script's", async () => {
    const text = readFileSync(join(RECIPES, 'kubernetes-job.yaml'), 'utf8');
    const secret = await recipeKey(text);
    // Kubernetes reads YAML 1.1: defaultMode 0755 is octal.
    const docs = parseAllDocuments(text, { version: '1.1' }).map((doc) => doc.toJS() as { kind: string; data?: Record<string, string>; spec?: LooseJob['spec'] });
    const configMap = docs.find((doc) => doc.kind === 'ConfigMap');
    const pod = (docs.find((doc) => doc.kind === 'Job') as LooseJob | undefined)?.spec.template.spec;
    expect(pod?.initContainers[0]?.command).toEqual(['npm', 'install', '--prefix', '/keruta', '--no-audit', '--no-fund', `keruta-agent@${agentVersion}`]);
    const container = pod?.containers[0];
    const scriptsVolume = pod?.volumes.find((v) => v.configMap !== undefined);
    const scriptsMount = container?.volumeMounts.find((m) => m.name === scriptsVolume?.name)?.mountPath ?? '';

    // The volumes: /keruta holds what the init container's `npm install --prefix` makes (the
    // tarball install has the same node_modules/.bin layout); the ConfigMap's files, with its mode.
    const scriptsDir = join(temp.path, 'k8s-scripts');
    mkdirSync(scriptsDir);
    for (const [name, content] of Object.entries(configMap?.data ?? {})) {
      writeFileSync(join(scriptsDir, name), content);
      chmodSync(join(scriptsDir, name), scriptsVolume?.configMap?.defaultMode ?? 0o644);
    }
    const inPod = (value: string) => value.replace(/^\/keruta\//, `${agentDir}/`).replace(new RegExp(`^${scriptsMount}/`), `${scriptsDir}/`);

    const podName = 'nightly-build-x7k2p';
    const env: Record<string, string> = {};
    for (const variable of container?.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = toTestServer(variable.value);
      else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[variable.name] = podName;
      else if (variable.valueFrom?.secretKeyRef !== undefined) {
        // The Secret the recipe's `kubectl create secret` line makes.
        const { name, key } = variable.valueFrom.secretKeyRef;
        expect(text).toContain(`kubectl create secret generic ${name} --from-literal=${key}=`);
        env[variable.name] = secret;
      } else throw new Error(`env ${variable.name}: a source this test does not know`);
    }
    // Kubernetes expands $(VAR) in command from the container's env.
    const [command = '', ...args] = (container?.command ?? []).map((word) => inPod(word.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? '')));
    const ran = await run(command, args, { cwd: temp.path, env: userEnv(env) });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('build finished');
    expect(await storedMessages(podName)).toEqual(expect.arrayContaining(['build finished', 'WARN cache is cold']));
  }, 120_000);

  it("systemd unit: its ExecStart with its Environment, WorkingDirectory and StateDirectory, the comment's keys create line; KillSignal stops it within TimeoutStopSec", async () => {
    const text = readFileSync(join(RECIPES, 'keruta-api.service'), 'utf8');
    const service = /\[Service\]\n([\s\S]*?)\n\[/.exec(text)?.[1] ?? '';
    const settings = service.split('\n').filter((line) => /^\w+=/.test(line));
    const values = (key: string) => settings.filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));
    const root = join(temp.path, 'systemd');
    const stateDir = join(root, 'var', 'lib', 'keruta');
    const etcDir = join(root, 'etc', 'keruta');
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(etcDir, { recursive: true });
    expect(values('StateDirectory')).toEqual(['keruta']);
    const onHost = (value: string) => value.replaceAll('/usr/local/bin/keruta-api', binPath(serverDir, 'keruta-api')).replaceAll('/var/lib/keruta', stateDir).replaceAll('/etc/keruta', etcDir);
    const env: Record<string, string> = {};
    for (const assignment of values('Environment')) {
      const eq = assignment.indexOf('=');
      env[assignment.slice(0, eq)] = onHost(assignment.slice(eq + 1));
    }
    // The unit listens on 8080; here on a free port.
    env.KERUTA_API_PORT = '0';

    const keysLine = /^#\s+sudo -u keruta (.+keys create.+)$/m.exec(text)?.[1] ?? '';
    const keys = await run('bash', ['-c', onHost(keysLine)], { cwd: stateDir, env: userEnv({ PATH: `${join(serverDir, 'node_modules', '.bin')}:${userEnv().PATH ?? ''}` }) });
    expect(keys.code, keys.stderr).toBe(0);
    const apiKey = keys.stdout.split('\n')[0] ?? '';

    const [execStart = '', ...execArgs] = onHost(values('ExecStart')[0] ?? '').split(' ');
    const server = await startInstalledServer(execStart, execArgs, { cwd: onHost(values('WorkingDirectory')[0] ?? ''), env: userEnv(env) });
    try {
      expect(await readJson(fetch(`${server.baseUrl}/health`))).toMatchObject({ status: 'healthy' });
      expect((await fetch(`${server.baseUrl}/api/v1/tasks`, { headers: { 'X-API-Key': apiKey } })).status).toBe(200);
      expect(existsSync(join(stateDir, 'keruta.db'))).toBe(true);
      const stopped = await server.stop(values('KillSignal')[0] as NodeJS.Signals);
      expect(stopped.code).toBe(0);
      expect(stopped.ms).toBeLessThan(Number(values('TimeoutStopSec')[0]) * 1000);
    } finally {
      await server.stop('SIGKILL');
    }
  }, 120_000);
});

interface LooseJob {
  spec: {
    template: {
      spec: {
        initContainers: { command: string[] }[];
        containers: {
          command: string[];
          env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } } }[];
          volumeMounts: { name: string; mountPath: string }[];
        }[];
        volumes: { name: string; configMap?: { name: string; defaultMode?: number } }[];
      };
    };
  };
}
