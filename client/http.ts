/**
 * The client's transport: one request on `fetch` with the JWT, JSON in and out, and every error
 * answer as a `MatrixOrchestratorError`. The routes are in index.ts.
 */
import type { Completed, ErrorBody, ErrorCode, Outcome, Running } from './types.js';

/** An error answer of the API (or a non-JSON answer of something in between). */
export class MatrixOrchestratorError extends Error implements ErrorBody {
  override readonly name = 'MatrixOrchestratorError';

  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** The Matrix-style error code, e.g. `M_FORBIDDEN`, `OM_ROOM_ARCHIVED`. */
    readonly errcode: ErrorCode,
    /** What the server said is wrong. */
    readonly error: string,
    /** The request's `x-request-id`: find it in the API's logs and the workflow's memo. */
    readonly requestId: string | null,
    /** `OM_ROOM_RENAMED`: the room's slug now; `OM_USER_RENAMED`: the user's. Send the request again with it. */
    readonly newSlug?: string,
  ) {
    super(`${status} ${errcode}: ${error}`);
  }
}

export interface ClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string | URL;
  /**
   * The service JWT, or a function giving a current one for each request (they expire). A
   * browser may give a user JWT instead: it is taken by the message routes (`messages.*`) only.
   */
  token: string | (() => string | Promise<string>);
  /** Per-request timeout; keep it above the server's `API_WAIT_MS` (default 10 s). Default 30 s. */
  timeoutMs?: number;
  /** A custom fetch (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** Sent as `x-request-id` (1–64 of `A-Z a-z 0-9 . _ -`), so one request can be followed into Temporal. */
  requestId?: string;
  signal?: AbortSignal;
}

export interface WaitOptions extends CallOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  /** Time between polls (default 500 ms). */
  intervalMs?: number;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type NoExtra = Record<never, never>;

/** The requests of one client. */
export function transport(options: ClientOptions) {
  const base = String(options.baseUrl).replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  /** One request; answers outside 2xx (and `alsoOk`) become MatrixOrchestratorError. */
  async function send(
    method: Method,
    path: string,
    body: unknown,
    opts: CallOptions = {},
    { auth = true, alsoOk = [] as number[], file = false } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth)
      headers.authorization = `Bearer ${typeof options.token === 'function' ? await options.token() : options.token}`;
    // `file`: the body is a Blob sent as it is, with its own type.
    if (body !== undefined)
      headers['content-type'] = file ? (body as Blob).type || 'application/octet-stream' : 'application/json';
    if (opts.requestId) headers['x-request-id'] = opts.requestId;
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await doFetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : file ? (body as Blob) : JSON.stringify(body),
      signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
    });
    if (res.ok || alsoOk.includes(res.status)) return res;
    throw await errorFrom(res);
  }

  async function json<T>(method: Method, path: string, body?: unknown, opts?: CallOptions): Promise<T> {
    return (await (await send(method, path, body, opts)).json()) as T;
  }

  /** 200 → the outcome; 202 → the operation to follow. */
  async function outcome<T, Extra = NoExtra>(
    method: Method,
    path: string,
    body?: unknown,
    opts?: CallOptions,
  ): Promise<Outcome<T, Extra>> {
    const res = await send(method, path, body, opts);
    const data = (await res.json()) as Record<string, unknown>;
    if (res.status === 202) return { ...data, status: 'running' } as Running<Extra>;
    return data as Completed<T>;
  }

  return { send, json, outcome };
}

async function errorFrom(res: Response): Promise<MatrixOrchestratorError> {
  const text = await res.text();
  let body: Partial<ErrorBody> | null = null;
  try {
    body = JSON.parse(text) as Partial<ErrorBody>;
  } catch {
    // not JSON: a proxy or load balancer answered
  }
  const requestId = res.headers.get('x-request-id');
  if (typeof body?.errcode === 'string') {
    const newSlug = typeof body.newSlug === 'string' ? body.newSlug : undefined;
    return new MatrixOrchestratorError(res.status, body.errcode, String(body.error ?? ''), requestId, newSlug);
  }
  const detail = text ? `: ${text.replace(/\s+/g, ' ').slice(0, 200)}` : '';
  return new MatrixOrchestratorError(res.status, 'M_UNKNOWN', `HTTP ${res.status}${detail}`, requestId);
}
