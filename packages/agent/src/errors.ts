// The agent's own errors, as values: a code, a message that names the culprit, and the exit
// status the command ends with. Server-side problems use the protocol's ErrorCode table instead.

export const AGENT_ERRORS = {
  /** A bad flag, variable or config-file value; the message names the setting and its source. */
  CONFIG_INVALID: { exitStatus: 2 },
  /** The command line itself: unknown flag, missing option. */
  USAGE: { exitStatus: 2 },
  /** The script does not exist (the shell's "command not found" status). */
  SCRIPT_NOT_FOUND: { exitStatus: 127 },
  /** The script exists but cannot be run: a directory, unreadable, or its interpreter is missing. */
  SCRIPT_NOT_RUNNABLE: { exitStatus: 126 },
} as const satisfies Record<string, { exitStatus: number }>;

export type AgentErrorCode = keyof typeof AGENT_ERRORS;

export interface AgentError {
  readonly code: AgentErrorCode;
  readonly message: string;
}

export type Result<T, E = AgentError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<E = AgentError>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

export function agentError(code: AgentErrorCode, message: string): AgentError {
  return { code, message };
}

export function exitStatusOf(error: AgentError): number {
  return AGENT_ERRORS[error.code].exitStatus;
}
