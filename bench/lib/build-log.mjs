// Build-log-like text for the bench's lines: what a CI job prints (compiler steps, test results,
// warnings, package-manager chatter, stack traces), made deterministically from the line number
// so that every run and every side prints the same lines. Stored bytes per line are compared
// with the raw text's, so the text must compress like a real log, not like random bytes or a
// run of one repeated letter. Imported by the task script itself (by file URL) and by the
// bench's in-process writers.

const DIRS = ['src/core', 'src/server', 'src/storage', 'packages/agent/src', 'lib/net', 'drivers/usb/host', 'internal/cache', 'app/models'];
const FILES = ['buffer', 'session', 'outbox', 'index', 'config', 'router', 'parser', 'ws-server', 'migrate', 'retry', 'hash_map', 'spool'];
const EXTS = ['.ts', '.c', '.cpp', '.go', '.rs', '.py'];
const PACKAGES = ['serde_json v1.0.108', 'tokio v1.35.1', 'libc v0.2.151', 'regex-syntax v0.8.2', 'syn v2.0.43', 'hyper v0.14.28'];
const TESTS = ['stores a batch once', 'resumes with since', 'rejects a bad token', 'pages by afterSeq', 'evicts a slow consumer', 'exports csv'];

/** A template for line `n`: a few dozen kinds of line, chosen and filled from `n`. */
function textOf(n) {
  const pick = (list, salt) => list[(n * 2654435761 + salt * 40503) % list.length >>> 0];
  const file = `${pick(DIRS, 1)}/${pick(FILES, 2)}${pick(EXTS, 3)}`;
  const ms = (n * 7919) % 4000;
  switch (n % 12) {
    case 0:
      return `[${String(Math.floor((n % 1000) / 10)).padStart(3)}%] Building CXX object ${file.replace(/\.\w+$/, '.cpp')}.o`;
    case 1:
      return `  CC      ${file.replace(/\.\w+$/, '.o')}`;
    case 2:
      return `   Compiling ${pick(PACKAGES, 4)}`;
    case 3:
      return `ok  \tgithub.com/keruta/bench/${pick(FILES, 5)}\t${(ms / 1000).toFixed(3)}s`;
    case 4:
      return `${file}(${(n % 400) + 1},${(n % 60) + 1}): warning TS6133: 'frame' is declared but its value is never read.`;
    case 5:
      return `    at Object.<anonymous> (/home/runner/work/app/app/${file}:${(n % 300) + 1}:${(n % 40) + 1})`;
    case 6:
      return `npm WARN deprecated inflight@1.0.6: This module is not supported, and leaks memory.`;
    case 7:
      return ` PASS ${pick(FILES, 6)}.test.ts > ${pick(TESTS, 7)} (${ms} ms)`;
    case 8:
      return `INFO  worker-${n % 8} task=build step=compile file=${file} took=${ms}ms`;
    case 9:
      return `gcc -O2 -Wall -fPIC -Iinclude -c ${file.replace(/\.\w+$/, '.c')} -o build/${pick(FILES, 8)}.o`;
    case 10:
      return `Downloading https://registry.npmjs.org/${pick(FILES, 9)}/-/${pick(FILES, 9)}-${n % 9}.${n % 13}.${n % 7}.tgz`;
    default:
      return `DEBUG cache hit key=${((n * 2654435761) >>> 0).toString(16)} path=${file} size=${(n * 31) % 65536}`;
  }
}

/** The texts repeat every TEXTS lines: made once each, so that printing a line costs a slice. */
const TEXTS = 4096;
const texts = new Array(TEXTS);

/**
 * Line `n` of `bytes` bytes with its newline (the newline not included): `<n> <stamp> <text>`,
 * the text cut or continued with another line's text to fit exactly (ASCII only, so characters
 * are bytes).
 */
export function buildLogLine(n, stamp, bytes = 100) {
  const head = `${n} ${stamp} `;
  const room = bytes - 1 - head.length;
  const i = n % TEXTS;
  let text = texts[i];
  if (text === undefined || text.length < room) {
    text = textOf(i);
    // Continued with another kind of line, not the next line's text (which would repeat it).
    for (let k = 1; text.length < Math.max(room, bytes); k++) text += ` ${textOf(i * 7 + k * 5 + 3)}`;
    texts[i] = text;
  }
  return head + text.slice(0, room);
}
