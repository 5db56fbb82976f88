import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogLevel } from '@keruta/protocol';
import { makeTempDir } from '@keruta/testing/base';
import { createIntakeWriter, INTAKE_END, INTAKE_EVENT, INTAKE_STDERR, INTAKE_STDOUT, openIntakeReader } from '../src/read/intake.js';
import { createIntakeProcessor } from '../src/process/intake-processor.js';
import { replayIntake } from '../src/process/intake-replay.js';
import type { ProcessingSettings } from '../src/process/processing-types.js';
import { saveProcessingState, unlinkQuietly } from '../src/run/run-directory.js';
import { createLevelDetector, detectLevel, RULES } from '../src/process/level-detector.js';
import { claimRun, createRunSpool, type RunSpool } from '../src/deliver/spool.js';
import { readCorpus } from './level-corpus.js';

describe('level detector', () => {
  it.each([
    ['{"level":"warn","msg":"disk almost full"}', 'WARN'],
    ['{"level": "ERROR", "msg": "x"}', 'ERROR'],
    ['{"time":1,"level":10,"msg":"pino trace"}', 'DEBUG'],
    ['{"level":20,"msg":"pino debug"}', 'DEBUG'],
    ['{"level":30,"msg":"pino info"}', 'INFO'],
    ['{"level":40,"msg":"pino warn"}', 'WARN'],
    ['{"level":50,"msg":"pino error"}', 'ERROR'],
    ['{"level":60,"msg":"pino fatal"}', 'ERROR'],
    ['{"msg":"no level here"}', 'INFO'],
    ['ERROR: connection refused', 'ERROR'],
    ['FATAL crash', 'ERROR'],
    ['Error: ENOENT', 'ERROR'],
    ['WARN low memory', 'WARN'],
    ['WARNING: deprecated', 'WARN'],
    ['DEBUG x=1', 'DEBUG'],
    ['TRACE enter', 'DEBUG'],
    ['[ERROR] failed', 'ERROR'],
    ['[2024-05-01 12:00:00] [WARN] slow', 'WARN'],
    ['[ debug ] verbose', 'DEBUG'],
    ['2024-05-01 12:00:00,123 ERROR [main] boom', 'ERROR'],
    ['2024-05-01T12:00:00Z WARN slow query', 'WARN'],
    ['time=2024-05-01 level=error msg=boom', 'ERROR'],
    ['level=warn msg="slow"', 'WARN'],
    ['hello world', 'INFO'],
    ['Debugger attached', 'INFO'],
    ['Errors: 0', 'INFO'],
    ['0000001 xxxxxxxx', 'INFO'],
    ['see [ERRORS] below', 'INFO'],
    ['', 'INFO'],
  ])('%j is %s', (line, level) => {
    expect(detectLevel(line)).toBe(level);
  });

  it.each([
    ['\x1b[31mERROR\x1b[0m something broke', 'ERROR'],
    ['\x1b[1;31merror\x1b[0m: could not compile `keruta`', 'ERROR'],
    ['\x1b[33mWARN\x1b[0m disk almost full', 'WARN'],
  ])('detects %j after removing its colours as %s', (line, level) => {
    expect(detectLevel(line)).toBe(level);
  });

  it.each([
    'error-codes.json written',
    'Error handling tests passed',
    '0 errors',
    'Critical section entered',
    'Warn-free build',
    'stats: ok 120 err 3 skipped 0',
    'Compiled successfully with 0 errors and 0 warnings.',
    '\x1b[01;31m\x1b[Kerror\x1b[m\x1b[K = 1;',
  ])('leaves %j at INFO: the word is not a report of one', (line) => {
    expect(detectLevel(line)).toBe('INFO');
  });
});

/**
 * Real lines for each rule (from test/fixtures/levels), the lines before them first where the rule
 * needs them: the last line must get `level` and be decided by that rule, not another by chance.
 */
const SAMPLES: Readonly<Record<string, readonly (readonly [level: LogLevel, ...lines: string[]])[]>> = {
  blank: [['INFO', 'panic: boom', '']],
  'python-traceback-body': [
    ['ERROR', 'Traceback (most recent call last):', '  File "/app/main.py", line 42, in <module>'],
    ['ERROR', 'Traceback (most recent call last):', '  File "/app/main.py", line 38, in main', '    port = int(config["port"])'],
  ],
  'python-exception': [
    ['ERROR', 'Traceback (most recent call last):', '  File "/app/worker.py", line 88, in <module>', '    time.sleep(1)', 'KeyboardInterrupt'],
    ['ERROR', 'Traceback (most recent call last):', '  File "/app/db.py", line 12, in connect', 'psycopg.OperationalError: connection refused'],
  ],
  'go-panic-body': [
    ['ERROR', 'panic: runtime error: index out of range [5] with length 3', '', 'goroutine 1 [running]:'],
    ['ERROR', 'panic: x', 'main.main()', '\t/home/runner/work/app/main.go:8 +0x1d'],
    ['ERROR', 'panic: x', 'main.main()', 'exit status 2'],
  ],
  'rust-panic-message': [["ERROR", "thread 'tests::parses_levels' panicked at src/lib.rs:42:9:", 'assertion `left == right` failed']],
  'attached-exception': [
    ['WARN', '10:12:48.002 [pool-1-thread-1] WARN  c.e.app.Retry - attempt 2 failed, retrying', 'java.net.SocketTimeoutException: Read timed out'],
    ['ERROR', 'Exception in thread "main" java.lang.IllegalStateException: x', '\tat com.example.app.Main.main(Main.java:9)', 'Caused by: java.io.FileNotFoundException: /etc/app/config.yml'],
  ],
  'json-level': [
    ['ERROR', '{"name":"keruta","hostname":"runner-1","pid":4711,"level":50,"msg":"failed to flush","v":0}'],
    ['INFO', '{"level":30,"msg":"error-codes.json written"}'],
    ['ERROR', '{"severity":"ERROR","message":"upstream unavailable"}'],
  ],
  'logfmt-level': [['WARN', 'time=2024-05-01T10:12:53Z level=warn msg="retrying" attempt=2 err="connection reset"']],
  klog: [
    ['ERROR', 'E0501 10:12:45.654321   12345 memcache.go:265] couldn\'t get current server API group list'],
    ['WARN', 'W0501 10:12:44.123456   12345 loader.go:222] Config not found: /home/runner/.kube/config'],
  ],
  'python-traceback': [['ERROR', 'Traceback (most recent call last):']],
  'python-chained-exception': [['ERROR', 'During handling of the above exception, another exception occurred:']],
  'go-panic': [['ERROR', 'panic: assignment to entry in nil map [recovered]']],
  'rust-panic': [['ERROR', "thread 'main' panicked at src/main.rs:4:5:"]],
  'java-uncaught': [['ERROR', 'Exception in thread "main" java.lang.IllegalStateException: config not loaded']],
  'node-crash-location': [
    ['ERROR', '/home/runner/work/app/src/index.js:12'],
    ['ERROR', 'node:internal/process/promises:289'],
  ],
  npm: [
    ['ERROR', 'npm ERR! code ELIFECYCLE'],
    ['ERROR', 'npm error code 1'],
    ['WARN', 'npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.'],
  ],
  make: [['ERROR', 'make[1]: *** [Makefile:12: net.o] Error 1']],
  'pytest-error-line': [['ERROR', 'E       assert 3 == 4']],
  git: [
    ['ERROR', ' ! [rejected]        main -> main (fetch first)'],
    ['ERROR', 'CONFLICT (content): Merge conflict in src/errors.ts'],
  ],
  'github-actions-command': [
    ['ERROR', '::error file=src/app.ts,line=9::type mismatch'],
    ['WARN', '::warning file=src/app.ts,line=3::unused variable'],
  ],
  'cargo-status': [['INFO', 'warning: unused import: `std::io`', '    Finished `dev` profile [unoptimized + debuginfo] target(s) in 2.31s']],
  'test-failure-title': [
    ['ERROR', '  ● sum › adds 1 + 2 to equal 3'],
    ['ERROR', '__________________________________ test_add __________________________________'],
    ['ERROR', '--- FAIL: TestErrorPaths (0.00s)'],
  ],
  'test-glyph': [
    ['ERROR', '   × sum > adds 2 and 2 3ms'],
    ['INFO', ' FAIL  src/sum.test.js', ' ✓ src/errors.test.ts  (4 tests) 3ms'],
  ],
  'go-test-pass': [['INFO', '--- PASS: TestWarnings (0.01s)']],
  'start-marker': [
    ['ERROR', 'ERROR: Could not find a version that satisfies the requirement reqeusts'],
    ['ERROR', 'fatal: not a git repository (or any of the parent directories): .git'],
    ['ERROR', 'error[E0425]: cannot find value `y` in this scope'],
    ['ERROR', ' FAIL  src/sum.test.js'],
    ['ERROR', 'FAILED tests/test_calc.py::test_add - assert 3 == 4'],
    ['WARN', 'warning package.json: No license field'],
    ['DEBUG', 'Trace: reached the slow path'],
    ['INFO', ' PASS  src/errors.test.js'],
  ],
  'error-phrase': [
    ['ERROR', 'Error response from daemon: No such container: keruta-api'],
    ['ERROR', 'Error from server (NotFound): pods "keruta-web-0" not found'],
  ],
  'failed-phrase': [['ERROR', "May  1 10:12:56 runner-1 systemd[1]: keruta-api.service: Failed with result 'exit-code'."]],
  'bracket-marker': [
    ['ERROR', '2024/05/01 10:12:59 [error] 31#31: *1 connect() failed (111: Connection refused)'],
    ['WARN', '##[warning]Node.js 16 actions are deprecated.'],
    ['INFO', '[INFO] BUILD FAILURE'],
  ],
  'compiler-diagnostic': [
    ['ERROR', "main.c:6:9: error: 'x' undeclared (first use in this function)"],
    ['ERROR', 'net.h:1:10: fatal error: openssl/ssl.h: No such file or directory'],
    ['ERROR', "src/recorder.ts(146,13): error TS2304: Cannot find name 'detectLevels'."],
    ['WARN', "main.c:5:13: warning: unused variable 'y' [-Wunused-variable]"],
    ['ERROR', 'collect2: error: ld returned 1 exit status'],
  ],
  'compiler-note': [
    ['ERROR', "main.c:6:9: error: 'x' undeclared", '    6 |         x = 3;', 'main.c:6:9: note: each undeclared identifier is reported only once'],
  ],
  eslint: [
    ['ERROR', "   3:7   error    'unused' is assigned a value but never used  no-unused-vars"],
    ['WARN', '  10:3   warning  Unexpected console statement                 no-console'],
  ],
  'go-compile': [['ERROR', 'agent/reader.go:17:2: undefined: detectLevel']],
  linker: [
    ['ERROR', "/usr/bin/ld: util.o: in function `parse':"],
    ['ERROR', "util.c:(.text+0x1c): undefined reference to `strlcpy'"],
  ],
  exception: [
    ['ERROR', "TypeError: Cannot read properties of undefined (reading 'id')"],
    ['ERROR', 'Uncaught Error: boom'],
    ['ERROR', 'tests/test_calc.py:5: AssertionError'],
    ['WARN', '(node:4242) [DEP0040] DeprecationWarning: The `punycode` module is deprecated.'],
  ],
  'upper-marker': [
    ['ERROR', '#7 4.221 npm ERR! code E404'],
    ['ERROR', 'db-1   | 2024-05-01 10:12:50.001 UTC [42] ERROR:  relation "logs" does not exist'],
    ['ERROR', 'test tests::parses_levels ... FAILED'],
    ['WARN', '2024-05-01T10:13:06.000Z\tWARN\tagent/run.go:91\tfalling back to REST'],
    ['INFO', '2024-05-01 10:12:44,123 - app.worker - INFO - processed 120 jobs, 0 errors'],
  ],
  errno: [
    ['ERROR', "ls: cannot access 'dist': No such file or directory"],
    ['ERROR', 'bash: line 3: tsc: command not found'],
  ],
  count: [
    ['ERROR', 'Tests:       1 failed, 3 passed, 4 total'],
    ['ERROR', '1 warning and 1 error generated.'],
    ['WARN', '1 warning generated.'],
  ],
  body: [
    ['ERROR', 'Error: config file not found: ./config.json', '    at loadConfig (/home/runner/work/app/src/index.js:12:11)'],
    ['WARN', "main.c:5:13: warning: unused variable 'y'", '    5 |         int y;'],
    ['WARN', 'parser.c:3:1: warning: type specifier missing', 'static errors[] = { 0 };'],
    ['DEBUG', 'Trace: reached the slow path', '    at slowPath (/app/lib/cache.js:44:11)'],
    ['ERROR', 'TypeError: x', '    at async Server.<anonymous> (file:///app/src/server.mjs:40:5) {', '}'],
  ],
  default: [
    ['INFO', 'GET /health 200 1ms'],
    ['INFO', 'ERROR: x', 'Node.js v20.12.2'],
  ],
};

describe('level detection rules', () => {
  it('has samples for every rule, and a rule for every sample', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(RULES.map((rule) => rule.id).sort());
  });

  for (const rule of RULES) {
    it(`rule ${rule.id} decides its samples`, () => {
      for (const [level, ...lines] of SAMPLES[rule.id] ?? []) {
        const detector = createLevelDetector();
        let got: LogLevel = 'INFO';
        for (const line of lines) got = detector.detect(line);
        expect({ last: lines.at(-1), level: got, rule: detector.rule }).toEqual({ last: lines.at(-1), level, rule: rule.id });
      }
    });
  }

  it('keeps a Java exception\'s level for its `at` lines, and a traceback\'s for its body, line by line', () => {
    const detector = createLevelDetector();
    const lines = [
      'Starting server on port 8080',
      'Exception in thread "main" java.lang.IllegalStateException: config not loaded',
      '\tat com.example.app.Config.get(Config.java:41)',
      '\t... 2 more',
      'server stopped',
      '  at 10:12 the build started',
    ];
    expect(lines.map((line) => detector.detect(line))).toEqual(['INFO', 'ERROR', 'ERROR', 'ERROR', 'INFO', 'INFO']);
  });

  it('judges a line alone with detectLevel: an `at` line has no exception before it', () => {
    detectLevel('Exception in thread "main" java.lang.IllegalStateException: x');
    expect(detectLevel('\tat com.example.app.Config.get(Config.java:41)')).toBe('INFO');
  });

  it('goes on alike from a saved state (a replay resumes mid-traceback)', () => {
    const lines = ['Traceback (most recent call last):', '  File "/app/main.py", line 42, in <module>', '    main()', 'ValueError: bad', 'done'];
    const whole = createLevelDetector();
    const expected = lines.map((line) => whole.detect(line));
    const first = createLevelDetector();
    for (const line of lines.slice(0, 2)) first.detect(line);
    const resumed = createLevelDetector(JSON.parse(JSON.stringify(first.state())));
    expect([...expected.slice(0, 2), ...lines.slice(2).map((line) => resumed.detect(line))]).toEqual(expected);
    expect(expected).toEqual(['ERROR', 'ERROR', 'ERROR', 'ERROR', 'INFO']);
  });
});

describe('level detection on real output (test/fixtures/levels)', () => {
  it('has a labelled corpus of at least 300 lines from at least 15 tools', () => {
    const streams = readCorpus();
    expect(streams.flatMap((s) => s.lines).length).toBeGreaterThanOrEqual(300);
    expect(new Set(streams.map((s) => s.name.split(':')[0])).size).toBeGreaterThanOrEqual(15);
  });

  it('finds ERROR and WARN lines with precision and recall of 0.95 or more', () => {
    const counts = { ERROR: { tp: 0, fp: 0, fn: 0 }, WARN: { tp: 0, fp: 0, fn: 0 } };
    const wrong: string[] = [];
    let total = 0;
    for (const stream of readCorpus()) {
      const detector = createLevelDetector();
      for (const { expected, line, where } of stream.lines) {
        total++;
        const got = detector.detect(line);
        if (got !== expected) wrong.push(`${where}: ${expected} detected as ${got} (${detector.rule}): ${JSON.stringify(line)}`);
        for (const level of ['ERROR', 'WARN'] as const) {
          if (got === level && expected === level) counts[level].tp++;
          else if (got === level) counts[level].fp++;
          else if (expected === level) counts[level].fn++;
        }
      }
    }
    const table = Object.entries(counts).map(([level, { tp, fp, fn }]) => ({
      level,
      lines: tp + fn,
      precision: Number((tp / (tp + fp)).toFixed(3)),
      recall: Number((tp / (tp + fn)).toFixed(3)),
    }));
    console.log(`level detection on ${total} labelled lines:`);
    console.table(table);
    console.log(`lines labelled otherwise (${wrong.length}):\n${wrong.join('\n')}`);
    for (const row of table) {
      expect(row.precision, row.level).toBeGreaterThanOrEqual(0.95);
      expect(row.recall, row.level).toBeGreaterThanOrEqual(0.95);
    }
  });
});

describe('level detection in a replay after a kill -9', () => {
  const SETTINGS: ProcessingSettings = { minLevel: 'DEBUG', maxMessageLength: 8192, excludePatterns: [] };
  const RUN_ID = '3b9c2f4e-5d6a-4e7b-8c9d-0e1f2a3b4c5d';
  /** The size past which the intake writer starts a new segment (intake.ts). */
  const SEGMENT_BYTES = 4 * 1024 * 1024;
  const HEADER_BYTES = 16;
  const tracebackStart = 'Traceback (most recent call last):\n  File "/app/main.py", line 42, in <module>\n';
  const tracebackRest = '    main()\n  File "/app/main.py", line 38, in main\n    port = int(config["port"])\nValueError: bad port\ncleaning up\n';

  let runs = 0;
  const temp = makeTempDir('keruta-agent-levels-');
  afterAll(async () => (await temp).remove());

  /** A run whose first intake segment ends inside a traceback on stderr: its body is in the second. */
  async function runWithTracebackAcrossSegments(): Promise<RunSpool> {
    const run = createRunSpool(join((await temp).path, `spool-${++runs}`), { taskId: 'levels', runId: RUN_ID, createdAt: '2026-01-01T00:00:00.000Z', processing: SETTINGS });
    mkdirSync(run.dir, { recursive: true });
    const writer = createIntakeWriter(run.dir);
    let written = 0;
    const append = (kind: number, text: string): void => {
      expect(writer.append(kind as typeof INTAKE_STDOUT, Buffer.from(text)).ok).toBe(true);
      written += HEADER_BYTES + Buffer.byteLength(text);
    };
    append(INTAKE_EVENT, JSON.stringify({ event: 'started', level: 'INFO', message: 'started', metadata: {} }));
    // Filler on stdout up to where the traceback's first record is the first segment's last.
    const last = SEGMENT_BYTES - HEADER_BYTES - tracebackStart.length + 1;
    const line = `building ${'x'.repeat(90)}\n`;
    while (written + HEADER_BYTES + 65_536 < last) append(INTAKE_STDOUT, line.repeat(Math.floor(65_536 / line.length)));
    append(INTAKE_STDOUT, `${'y'.repeat(last - written - HEADER_BYTES - 1)}\n`);
    append(INTAKE_STDERR, tracebackStart);
    append(INTAKE_STDERR, tracebackRest);
    append(INTAKE_END, '');
    append(INTAKE_EVENT, JSON.stringify({ event: 'exited', level: 'INFO', message: 'exited with code 1', metadata: { exitCode: 1 } }));
    writer.close();
    return run;
  }

  /** The processing thread, killed right after it saved its state at the first segment's end (or never, when `kill` is false). */
  function processLive(run: RunSpool, kill: boolean): void {
    const processor = createIntakeProcessor({ runId: RUN_ID, spool: run, settings: SETTINGS });
    const reader = openIntakeReader(run.dir, 0);
    for (let record = reader.next(); record !== undefined; record = reader.next()) {
      if (record.kind === 'segment-end') {
        expect(processor.flush().ok).toBe(true);
        saveProcessingState(run.dir, processor.state(record.nextOffset));
        unlinkQuietly(record.path);
        if (kill) break;
        continue;
      }
      processor.take(record);
    }
    expect(processor.flush().ok).toBe(true);
    reader.close();
  }

  function stderrLevels(run: RunSpool): string[] {
    const levels: string[] = [];
    for (let seq = run.ackedSeq + 1; seq <= run.lastSeq; ) {
      const batch = run.read(seq, 10_000, 16 * 1024 * 1024, { head: Buffer.from('['), tail: Buffer.from(']') });
      if (batch === undefined) break;
      for (const entry of JSON.parse(batch.body.toString()) as { source: string; level: string; message: string }[]) {
        if (entry.source === 'stderr') levels.push(`${entry.level} ${entry.message}`);
      }
      seq = batch.lastSeq + 1;
    }
    return levels;
  }

  it('gives a traceback cut by a segment boundary the same levels as a run that was never killed', async () => {
    const reference = await runWithTracebackAcrossSegments();
    processLive(reference, false);
    const expected = stderrLevels(reference);
    expect(expected).toEqual([
      'ERROR Traceback (most recent call last):',
      'ERROR   File "/app/main.py", line 42, in <module>',
      'ERROR     main()',
      'ERROR   File "/app/main.py", line 38, in main',
      'ERROR     port = int(config["port"])',
      'ERROR ValueError: bad port',
      'INFO cleaning up',
    ]);

    const killed = await runWithTracebackAcrossSegments();
    processLive(killed, true);
    const claimed = claimRun(killed.dir) as RunSpool;
    expect(await replayIntake(claimed)).toEqual({ ok: true });
    expect(stderrLevels(claimed)).toEqual(expected);
  });
});
