// The agent's own local messages (not the script's output): to stderr by default so the script's
// stdout stays exactly what it printed. Info messages only with --verbose; warnings always.
import { openSync, writeSync } from 'node:fs';
import type { LogFormat } from './config.js';

export interface AgentLog {
  /** Shown with --verbose only. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Always shown: something the user must know (lines kept, a refused token). */
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface AgentLogOptions {
  readonly verbose: boolean;
  readonly format: LogFormat;
  /** "stderr", "stdout" or a file path. */
  readonly output: string;
}

export function createAgentLog({ verbose, format, output }: AgentLogOptions): AgentLog {
  let sink: (text: string) => void = (text) => process.stderr.write(text);
  if (output === 'stdout') sink = (text) => process.stdout.write(text);
  else if (output !== 'stderr') {
    try {
      const fd = openSync(output, 'a');
      sink = (text) => writeQuietly(fd, text);
    } catch (error) {
      sink(`keruta-agent: cannot open log output ${output} (${(error as NodeJS.ErrnoException).code ?? 'error'}); using stderr\n`);
    }
  }

  const write = (level: string, message: string, fields: Record<string, unknown> = {}): void => {
    const line =
      format === 'json'
        ? JSON.stringify({ time: new Date().toISOString(), level, name: 'keruta-agent', msg: message, ...fields })
        : `keruta-agent: ${level === 'info' ? '' : `${level}: `}${message}`;
    sink(`${line}\n`);
  };

  return {
    info(message, fields) {
      if (verbose) write('info', message, fields);
    },
    warn(message, fields) {
      write('warn', message, fields);
    },
    error(message, fields) {
      write('error', message, fields);
    },
  };
}

function writeQuietly(fd: number, text: string): void {
  try {
    writeSync(fd, text);
  } catch {
    // The terminal or file went away; the agent's own messages are not worth stopping the script for.
  }
}
