#!/usr/bin/env node
// `keruta`: a task's log in the terminal (`keruta logs TASK_ID [-f]`, `keruta tasks`); see README.md.
import { runCli } from './cli/run-cli.js';

const stop = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    // A second Ctrl-C does not wait for the orderly stop.
    if (stop.signal.aborted) process.exit(name === 'SIGINT' ? 130 : 143);
    stop.abort(name);
  });
}
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // The reader went away (`keruta logs … | head`): nothing more to print.
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: stop.signal });
