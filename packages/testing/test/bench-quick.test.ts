// The benchmarks still run: a small subset of `npm run bench -- --quick` completes and writes its
// results without a crashed scenario. Nothing about speed is asserted here (bench/README.md).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '@keruta/testing';

const root = fileURLToPath(new URL('../../..', import.meta.url));

interface BenchRow {
  scenario: string;
  metric: string;
  value: unknown;
}

describe('npm run bench -- --quick', () => {
  it('runs the api- scenarios to the end and writes JSON results with no error row', async () => {
    await using out = await makeTempDir('keruta-bench-quick-');
    const status = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [join(root, 'bench', 'run.mjs'), '--quick', '--only', 'api-', '--out', out.path], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.once('error', reject);
      child.once('exit', (code) => resolve(code));
    });
    expect(status).toBe(0);
    const results = JSON.parse(await readFile(join(out.path, 'latest-quick.json'), 'utf8')) as { quick: boolean; rows: BenchRow[] };
    expect(results.quick).toBe(true);
    const scenarios = new Set(results.rows.map((r) => r.scenario));
    expect(scenarios.has('api-history') && scenarios.has('api-ingest')).toBe(true);
    expect(results.rows.filter((r) => r.metric === 'error')).toEqual([]);
  }, 240_000);
});
