// The requests every REST method of keruta-client makes: the base URL and credential headers of
// RestClientOptions, a network failure as NETWORK_ERROR, an error answer as the server's code
// (KerutaClientError), and a body checked against its protocol schema.
import type { Validator } from '@keruta/protocol';
import { KerutaClientError, errorFromResponse } from './client-error.js';
import type { FetchFunction, RestClientOptions } from './rest-client.js';
import { checkTaskId, defaultApiUrl } from './urls.js';

export interface RequestSpec<T> {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  what: string;
  validator?: Validator<T>;
  body?: unknown;
  /** Statuses other than 2xx whose body is still the answer (GET /health's 503). */
  acceptStatus?: number;
}

export interface Requests {
  /** The `/api/v1` base every path is relative to. */
  readonly baseUrl: string;
  /** The server's root (for /health). */
  readonly rootUrl: string;
  /** `{baseUrl}/tasks/{taskId}{rest}`, the task id checked. */
  taskPath(taskId: string, rest?: string): string;
  /** The response, once it is 2xx (or `acceptStatus`). */
  send(spec: Omit<RequestSpec<unknown>, 'validator'>): Promise<Response>;
  /** The answer's body, checked against `validator`. */
  request<T>(spec: RequestSpec<T> & { validator: Validator<T> }): Promise<T>;
}

export function createRequests(options: RestClientOptions): Requests {
  const baseUrl = (options.baseUrl ?? defaultApiUrl()).replace(/\/+$/, '');
  const rootUrl = baseUrl.replace(/\/api\/v1$/, '');
  const fetchFn: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`;
  if (options.apiKey !== undefined) headers['X-API-Key'] = options.apiKey;

  const taskPath = (taskId: string, rest = ''): string => `${baseUrl}/tasks/${encodeURIComponent(checkTaskId(taskId))}${rest}`;

  const send = async (spec: Omit<RequestSpec<unknown>, 'validator'>): Promise<Response> => {
    const init: RequestInit = { method: spec.method, headers };
    if (spec.body !== undefined) {
      init.headers = { ...headers, 'Content-Type': 'application/json' };
      init.body = JSON.stringify(spec.body);
    }
    let response: Response;
    try {
      response = await fetchFn(spec.url, init);
    } catch (error) {
      throw new KerutaClientError('NETWORK_ERROR', `${spec.what}: cannot reach ${spec.url}: ${networkReason(error)}`, { cause: error });
    }
    if (!response.ok && response.status !== spec.acceptStatus) throw await errorFromResponse(response, spec.what);
    return response;
  };

  const request = async <T>(spec: RequestSpec<T> & { validator: Validator<T> }): Promise<T> => {
    const response = await send(spec);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw new KerutaClientError('UNEXPECTED_RESPONSE', `${spec.what}: the answer is not JSON`, { status: response.status, cause: error });
    }
    const problem = spec.validator.explain(body);
    if (problem !== undefined) {
      throw new KerutaClientError('UNEXPECTED_RESPONSE', `${spec.what}: the answer does not fit its schema (${problem})`, { status: response.status });
    }
    return body as T;
  };

  return { baseUrl, rootUrl, taskPath, send, request };
}

/** Node's fetch hides the reason (ECONNREFUSED …) in `cause`. */
function networkReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause !== undefined && typeof cause.code === 'string') return `${error.message} (${cause.code})`;
  if (cause !== undefined && typeof cause.message === 'string') return `${error.message} (${cause.message})`;
  return error.message;
}
