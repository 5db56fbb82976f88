// The script as the user sees it: run through the built keruta-agent with streaming off, its
// output must come out unchanged and its exit status must be the agent's.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing/base';
import { cleanEnv, runAgent, startAgent, writeScript } from './helpers.js';

const temp = await makeTempDir('keruta-agent-runner-');
afterAll(() => temp.remove());
const env = cleanEnv({ KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool') });
const offline = (script: string, ...rest: string[]) => ['execute', '--task-id', 'runner', '--script', script, '--disable-log-streaming', ...rest];

describe('running the script', () => {
  it('passes arguments after -- and KERUTA_TASK_ID, and exits with the script\'s status', async () => {
    const script = writeScript(temp.path, 'args.sh', '#!/bin/sh\necho "args=$# first=$1 second=$2 task=$KERUTA_TASK_ID"\nexit 7\n');
    const run = await runAgent(offline(script, '--', 'a b', '--not-a-flag'), env);
    expect(run.stdout.toString()).toBe('args=2 first=a b second=--not-a-flag task=runner\n');
    expect(run.status).toBe(7);
  });

  it('prints stdout and stderr byte for byte, binary included', async () => {
    const bytes = randomBytes(300_000);
    const data = join(temp.path, 'random.bin');
    writeFileSync(data, bytes);
    const script = writeScript(temp.path, 'binary.sh', `#!/bin/sh\ncat '${data}'\necho "to stderr" >&2\n`);
    const run = await runAgent(offline(script), env);
    expect(run.status).toBe(0);
    expect(Buffer.compare(run.stdout, bytes)).toBe(0);
    expect(run.stderr).toBe('to stderr\n');
  });

  it('exits with 128+N when the script is killed by signal N', async () => {
    const script = writeScript(temp.path, 'killed.sh', '#!/bin/sh\nkill -TERM $$\nsleep 5\n');
    expect((await runAgent(offline(script), env)).status).toBe(143);
    const nine = writeScript(temp.path, 'nine.sh', '#!/bin/sh\nkill -KILL $$\n');
    expect((await runAgent(offline(nine), env)).status).toBe(137);
  });

  it('forwards SIGTERM and SIGINT to the script', async () => {
    const script = writeScript(
      temp.path,
      'trap.sh',
      '#!/bin/bash\ntrap \'echo "got TERM"; exit 42\' TERM\ntrap \'echo "got INT"; exit 43\' INT\necho ready\nwhile true; do sleep 0.05; done\n',
    );
    for (const [signal, status, said] of [['SIGTERM', 42, 'got TERM'], ['SIGINT', 43, 'got INT']] as const) {
      const agent = startAgent(offline(script), env);
      await new Promise<void>((resolve) => agent.child.stdout?.once('data', () => resolve()));
      agent.child.kill(signal);
      const run = await agent.done;
      expect(run.status).toBe(status);
      expect(run.stdout.toString()).toContain(said);
    }
  });

  it('runs a script that is not executable with sh', async () => {
    const script = writeScript(temp.path, 'plain.sh', 'echo "run by sh"\n', { executable: false });
    const run = await runAgent(offline(script), env);
    expect(run.stdout.toString()).toBe('run by sh\n');
    expect(run.status).toBe(0);
  });

  it('runs an executable without a #! line with sh', async () => {
    const script = writeScript(temp.path, 'noshebang', 'echo "no shebang"\n');
    const run = await runAgent(offline(script), env);
    expect(run.stdout.toString()).toBe('no shebang\n');
  });

  it('reports a missing script with status 127', async () => {
    const run = await runAgent(offline(join(temp.path, 'missing.sh')), env);
    expect(run.status).toBe(127);
    expect(run.stderr).toContain(`script not found: ${join(temp.path, 'missing.sh')}`);
  });

  it('reports a directory or a missing interpreter with status 126 or 127', async () => {
    expect((await runAgent(offline(temp.path), env)).status).toBe(126);
    const script = writeScript(temp.path, 'nointerp.sh', '#!/no/such/interpreter\necho hi\n');
    const run = await runAgent(offline(script), env);
    expect(run.status).toBe(127);
    expect(run.stderr).toMatch(/interpreter/);
  });

  it('does not hang when the script exits while its child keeps the pipe open', async () => {
    const script = writeScript(temp.path, 'orphan.sh', '#!/bin/sh\necho parent done\n(sleep 30; echo late) &\nexit 0\n');
    const run = await runAgent(offline(script), env);
    expect(run.status).toBe(0);
    expect(run.stdout.toString()).toBe('parent done\n');
    expect(run.durationMs).toBeLessThan(5000);
  });

  it('prints what a background child says shortly after the script exits', async () => {
    const script = writeScript(temp.path, 'late.sh', '#!/bin/sh\n(sleep 0.2; echo from child) &\necho from parent\n');
    const run = await runAgent(offline(script), env);
    expect(run.stdout.toString()).toBe('from parent\nfrom child\n');
  });
});

describe('the command line', () => {
  it('rejects an unknown flag with status 2', async () => {
    const run = await runAgent(['execute', '--task-id', 't', '--script', '/bin/true', '--frobnicate'], env);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown option '--frobnicate'");
  });

  it('rejects a missing --task-id and an invalid one with status 2', async () => {
    expect((await runAgent(['execute', '--script', '/bin/true'], env)).status).toBe(2);
    const run = await runAgent(['execute', '--task-id', '../etc', '--script', '/bin/true'], env);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('invalid --task-id');
  });

  it('rejects bad settings with status 2, naming the setting and its source', async () => {
    const flag = await runAgent(['execute', '--task-id', 't', '--script', '/bin/true', '--exit-timeout', 'later'], env);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toContain('--exit-timeout (command line): invalid value "later"');
    const variable = await runAgent(['execute', '--task-id', 't', '--script', '/bin/true'], { ...env, KERUTA_LOG_BUFFER_SIZE: '0' });
    expect(variable.status).toBe(2);
    expect(variable.stderr).toContain('KERUTA_LOG_BUFFER_SIZE (environment): invalid value "0"');
    const file = join(temp.path, 'bad.yaml');
    writeFileSync(file, 'websocket:\n  url: http://not-a-websocket\n');
    const fromFile = await runAgent(['execute', '--task-id', 't', '--script', '/bin/true', '--config', file], env);
    expect(fromFile.status).toBe(2);
    expect(fromFile.stderr).toContain(`websocket.url in ${file}: invalid value "http://not-a-websocket"`);
  });

  it('shows help for each command', async () => {
    for (const command of ['execute', 'flush']) {
      const run = await runAgent([command, '--help'], env);
      expect(run.status).toBe(0);
      expect(run.stdout.toString()).toContain(`Usage: keruta-agent ${command}`);
    }
  });

  it('keeps the script\'s stdout clean: --verbose messages go to stderr', async () => {
    const script = writeScript(temp.path, 'quiet.sh', '#!/bin/sh\necho only this\n');
    const run = await runAgent(offline(script, '--verbose'), env);
    expect(run.stdout.toString()).toBe('only this\n');
    expect(run.stderr).toContain('keruta-agent: started');
  });
});
