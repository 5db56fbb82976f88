// Who is asking, and what they may do: scopes and, optionally, the task ids they are limited to.
import { KerutaError, matchesTaskGlob } from '@keruta/protocol';

export const SCOPES = ['logs:read', 'logs:write', 'logs:delete'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: unknown): value is Scope {
  return (SCOPES as readonly unknown[]).includes(value);
}

export interface Principal {
  /** A name for logs and metrics: the JWT subject or the API key id; never the secret. */
  readonly subject: string;
  readonly scopes: ReadonlySet<Scope>;
  /** Task-id patterns (`*` matches any run of characters); undefined means every task. */
  readonly tasks: readonly string[] | undefined;
  /** Epoch milliseconds after which the credential is no longer valid. */
  readonly expiresAt: number | undefined;
}

/** The principal of auth mode `none`: everything is allowed, as it only listens on loopback. */
export const LOOPBACK_PRINCIPAL: Principal = Object.freeze({
  subject: 'loopback',
  scopes: new Set(SCOPES),
  tasks: undefined,
  expiresAt: undefined,
});

export function mayAccessTask(principal: Principal, taskId: string): boolean {
  return principal.tasks === undefined || matchesTaskGlob(principal.tasks, taskId);
}

/** Throws FORBIDDEN unless the principal holds `scope` (for `taskId`, when given). */
export function authorize(principal: Principal, scope: Scope, taskId?: string): void {
  if (!principal.scopes.has(scope)) {
    throw new KerutaError('FORBIDDEN', `the credential lacks the scope ${scope}`);
  }
  if (taskId !== undefined && !mayAccessTask(principal, taskId)) {
    throw new KerutaError('FORBIDDEN', `the credential does not cover task ${taskId}`);
  }
}

/** Reads scopes from a claim: an OAuth-style space-separated string or an array. */
export function parseScopes(value: unknown): Set<Scope> {
  const items = typeof value === 'string' ? value.split(/[\s,]+/) : Array.isArray(value) ? value : [];
  return new Set(items.filter(isScope));
}
