#!/usr/bin/env node
// Takes docs/screenshot.png for the README: the admin page in Chromium (Debian's, through
// playwright-core) showing a realistic CI-like task — ANSI colours, a folded section, a search
// with its matches highlighted — beside a task list. Needs `npm run build` first.
// Run: node scripts/screenshot.mjs [output.png]
/* global document, HTMLElement -- used in code that runs in the page */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '@keruta/testing';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const output = resolve(process.argv[2] ?? join(root, 'docs/screenshot.png'));
const ESC = '\u001b';
const green = (text) => `${ESC}[32m${text}${ESC}[0m`;
const red = (text) => `${ESC}[1;31m${text}${ESC}[0m`;
const dim = (text) => `${ESC}[2m${text}${ESC}[0m`;
const cyan = (text) => `${ESC}[36m${text}${ESC}[0m`;

function buildLog() {
  const lines = [
    ['agent', 'INFO', 'started /srv/ci/build-and-test.sh (pid 48211)', { event: 'started', processId: 48211 }],
    ['stdout', 'INFO', '::group::Check out repository'],
    ['stdout', 'INFO', 'Fetching origin/main at 3f9c2e1'],
    ['stdout', 'INFO', 'HEAD is now at 3f9c2e1 storage: keyset paging for history'],
    ['stdout', 'INFO', '::endgroup::'],
    ['stdout', 'INFO', '::group::Install dependencies'],
  ];
  for (let i = 0; i < 40; i++) lines.push(['stdout', 'INFO', `added package ${i + 1} of 40`]);
  lines.push(['stderr', 'WARN', 'npm warn deprecated inflight@1.0.6: This module is not supported'], ['stdout', 'INFO', '::endgroup::']);
  lines.push(['stdout', 'INFO', '::group::Build'], ['stdout', 'INFO', `${cyan('tsc')} -b packages/*/tsconfig.json`], ['stdout', 'INFO', `${cyan('vite')} build ${dim('(keruta-web)')}`], ['stdout', 'INFO', `dist/assets/index.js  ${green('143.8 kB')}`], ['stdout', 'INFO', '::endgroup::']);
  lines.push(['stdout', 'INFO', '::group::Run tests']);
  const tests = [
    ['line store', 'keeps each field of every line', true],
    ['line store', 'grows across many chunks at both ends', true],
    ['virtual range', 'scales past the height limit', true],
    ['admin page', 'shows live lines coloured by level', true],
    ['admin page', 'keeps every line while paused', true],
    ['reconnect', 'loses or repeats no line across a restart', false],
    ['search', 'moves between matches with n and N', true],
    ['sections', 'folds ::group:: sections once they end', true],
  ];
  for (const [suite, name, ok] of tests) {
    lines.push(['stdout', ok ? 'INFO' : 'ERROR', `${ok ? green('✓') : red('✗')} ${dim(suite)} › ${name} ${dim(`(${(Math.random() * 900 + 100).toFixed(0)} ms)`)}`]);
  }
  lines.push(
    ['stderr', 'ERROR', `${red('Error:')} timeout of 30000 ms exceeded waiting for "live"`],
    ['stderr', 'ERROR', `    at waitForConnection (test/page-helpers.ts:81:3)`],
    ['stderr', 'DEBUG', 'retrying with a fresh profile in /tmp/keruta-chromium-Xc81'],
    ['stdout', 'WARN', `${ESC}[33mWARN${ESC}[0m 1 test failed, 7 passed; timeout in 1 of them`],
    ['stdout', 'INFO', '::endgroup::'],
    ['stdout', 'INFO', `Test Files  ${red('1 failed')} | ${green('11 passed')} (12)`],
    ['stdout', 'INFO', `     Tests  ${red('1 failed')} | ${green('92 passed')} (93)`],
    ['stderr', 'ERROR', 'Process completed with exit code 1.'],
    ['agent', 'WARN', 'exited with code 1 after 212.4 s', { event: 'exited', exitCode: 1 }],
  );
  const start = Date.now() - 220_000;
  return lines.map(([source, level, message, metadata], i) => ({ source, level, message, timestamp: new Date(start + i * 2300 + (i % 7) * 111).toISOString(), ...(metadata === undefined ? {} : { metadata }) }));
}

async function post(apiUrl, taskId, entries) {
  const response = await fetch(`${apiUrl}/tasks/${taskId}/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ entries }) });
  if (!response.ok) throw new Error(`POST ${taskId}: HTTP ${response.status} ${await response.text()}`);
}

const server = await startServer();
const profile = await mkdtemp(join(tmpdir(), 'keruta-screenshot-'));
try {
  await post(server.apiUrl, 'nightly-backup', [{ source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } }, { source: 'stdout', level: 'INFO', message: 'copying 1,204 files' }]);
  await post(server.apiUrl, 'deploy-api-317', [
    { source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } },
    { source: 'stdout', level: 'INFO', message: 'deployed' },
    { source: 'agent', level: 'INFO', message: 'exited with code 0', metadata: { event: 'exited', exitCode: 0 } },
  ]);
  await post(server.apiUrl, 'build-and-test-1842', buildLog());
  await post(server.apiUrl, 'nightly-backup', [{ source: 'stdout', level: 'INFO', message: 'copied 600 of 1,204 files' }]);

  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 860 },
    deviceScaleFactor: 1,
    colorScheme: 'dark',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${server.baseUrl}/?taskId=build-and-test-1842`);
  await page.waitForSelector('#logContainer[data-history="loaded"]');
  await page.waitForSelector('#taskList li');
  // Open the section with the failing test, search for what failed.
  await page.click('.group-header:has-text("Run tests") .msg');
  await page.fill('#searchInput', 'timeout');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.log-entry.current-match');
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.waitForTimeout(300);
  await page.screenshot({ path: output });
  await context.close();
  console.log(`wrote ${output}`);
} finally {
  await rm(profile, { recursive: true, force: true });
  await server.close();
}
