// Frames from the server, checked against protocol's ServerMessageSchemas before the client acts
// on them. Types the client does not know are reported as such, so a newer server's additions
// are skipped rather than treated as errors.
import { ServerMessageSchemas, createValidator, type ServerMessage, type Validator } from '@keruta/protocol';

type ServerMessageType = keyof typeof ServerMessageSchemas;

const validators = Object.fromEntries(
  Object.entries(ServerMessageSchemas).map(([type, schema]) => [type, createValidator(schema)]),
) as { [K in ServerMessageType]: Validator<Extract<ServerMessage, { type: K }>> };

export type ParsedServerMessage =
  | { kind: 'message'; message: ServerMessage }
  | { kind: 'unknown'; type: string }
  | { kind: 'invalid'; problem: string };

export function parseServerMessage(value: unknown): ParsedServerMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', problem: 'message: must be a JSON object with a "type"' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { kind: 'invalid', problem: 'type: is required' };
  if (!Object.hasOwn(validators, type)) return { kind: 'unknown', type };
  const problem = validators[type as ServerMessageType].explain(value);
  if (problem !== undefined) return { kind: 'invalid', problem: `${type} message: ${problem}` };
  return { kind: 'message', message: value as ServerMessage };
}

/** A frame's text as JSON, or undefined when it is not JSON. */
export function parseFrameText(data: unknown): unknown {
  if (typeof data !== 'string') return undefined;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}
