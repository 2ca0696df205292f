import { MatrixHttpError, MatrixUnreachableError } from './errors.js';

export interface MatrixRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  token?: string;
  query?: Record<string, string>;
  body?: unknown;
  timeoutMs?: number;
}

/**
 * How one request acts as a user: a bearer token, and for identity assertion (appservice) the
 * `user_id` query parameter with it.
 */
export interface RequestAuth {
  token: string;
  query?: Record<string, string>;
}

/** `req` made with `auth`; the assertion's parameters win over any of the same name in `req.query`. */
export function authorized(auth: RequestAuth, req: Omit<MatrixRequest, 'token'>): MatrixRequest {
  return { ...req, token: auth.token, query: { ...req.query, ...auth.query } };
}

const DEFAULT_TIMEOUT_MS = 15_000;

function retryAfterMs(body: Record<string, unknown>, header: string | null): number | undefined {
  if (typeof body.retry_after_ms === 'number') return body.retry_after_ms;
  if (header && /^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  return undefined;
}

/**
 * One HTTP call to the homeserver. Answers that are not 2xx become MatrixHttpError with the Matrix
 * errcode; failures to reach the server become MatrixUnreachableError. The token never appears in
 * an error message: it travels only in the Authorization header.
 */
export async function matrixRequest<T>(baseUrl: string, req: MatrixRequest): Promise<T> {
  const url = new URL(baseUrl + req.path);
  for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: AbortSignal.timeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new MatrixUnreachableError(`${req.method} ${req.path}: homeserver unreachable (${cause})`, { cause: err });
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  if (text) {
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = {};
    }
  }
  if (!res.ok) {
    throw new MatrixHttpError(
      res.status,
      typeof body.errcode === 'string' ? body.errcode : undefined,
      typeof body.error === 'string' ? body.error : undefined,
      retryAfterMs(body, res.headers.get('retry-after')),
      req.method,
      req.path,
    );
  }
  return body as T;
}

export const enc = encodeURIComponent;
