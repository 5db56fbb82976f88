// Reads what a credential may do (its scopes and task-id patterns) from a JWT's claims or an API
// key's entry, failing closed: a claim of any shape but the one documented rejects the credential,
// naming the claim, instead of being read as "no limit" (a `tasks: "build-*"` string once granted
// every task).
import { TASK_GLOB_PATTERN } from '@keruta/protocol';
import { SCOPES, isScope, type Scope } from './principal.js';


export type ClaimResult<T> = { ok: true; value: T } | { ok: false; problem: string };

const fail = (problem: string): { ok: false; problem: string } => ({ ok: false, problem });

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Scopes from an array of scope names, or (`spaceSeparated`, for the OAuth `scope` claim) one
 * string of them. Unknown names, non-strings and an empty list are problems; `undefined` is none.
 */
export function readScopes(name: string, value: unknown, options: { spaceSeparated?: boolean } = {}): ClaimResult<Set<Scope>> {
  let items: unknown[];
  if (typeof value === 'string' && options.spaceSeparated === true) items = value.split(/[\s,]+/).filter((s) => s !== '');
  else if (Array.isArray(value)) items = value;
  else return fail(`${name}: must be ${options.spaceSeparated === true ? 'a space-separated string or ' : ''}a list of scopes, got ${shown(value)}`);
  if (items.length === 0) return fail(`${name}: must name at least one of ${SCOPES.join(', ')}`);
  const unknown = items.filter((item) => !isScope(item));
  if (unknown.length > 0) return fail(`${name}: unknown scope ${unknown.map(shown).join(', ')}; choose from ${SCOPES.join(', ')}`);
  return { ok: true, value: new Set(items as Scope[]) };
}

/** Task-id patterns: absent means every task; anything present must be a non-empty list of patterns. */
export function readTaskPatterns(name: string, value: unknown): ClaimResult<string[] | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  if (!Array.isArray(value)) return fail(`${name}: must be a list of task-id patterns such as ["build-*"], got ${shown(value)}`);
  if (value.length === 0) return fail(`${name}: is an empty list; leave it out for every task, or name the tasks`);
  const bad = value.filter((item) => typeof item !== 'string' || !TASK_GLOB_PATTERN.test(item));
  if (bad.length > 0) {
    return fail(`${name}: ${bad.map(shown).join(', ')} is not a task-id pattern (1-128 of A-Z, a-z, 0-9, ".", "_", "-" and "*")`);
  }
  return { ok: true, value: [...(value as string[])] };
}
