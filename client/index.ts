/**
 * A typed client of the matrix-orchestrator HTTP API for the platform backend: one function per
 * route, built on `fetch`, authenticated with the service JWT. Start endpoints answer with the
 * outcome (`status: 'completed'`) or, when the workflow takes longer than the server waits, with
 * the operation to follow (`status: 'running'`; see `operations.wait`). Every error answer becomes
 * a `MatrixOrchestratorError` carrying `{status, errcode, error}`.
 *
 * ```ts
 * const om = createClient({ baseUrl: 'http://127.0.0.1:8080', token: () => mintServiceJwt() });
 * const alice = await om.users.provision('acme', { slug: 'alice', displayName: 'Alice' });
 * await om.members.set({ tenant: 'acme', kind: 'event', slug: 'summer-meetup' }, 'alice', { role: 'host' });
 * ```
 */
import type {
  Completed,
  DmInput,
  ErrorBody,
  ErrorCode,
  MemberInput,
  Operation,
  Outcome,
  PlatformEvent,
  EnsureRoomInput,
  ProvisionedUser,
  ProvisionUserInput,
  RenamedUser,
  RenameUserInput,
  Readiness,
  RoomChangeResult,
  RoomKind,
  RoomRef,
  RoomView,
  Running,
  UserKnown,
} from './types.js';

export * from './types.js';

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
  ) {
    super(`${status} ${errcode}: ${error}`);
  }
}

export interface ClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string | URL;
  /** The service JWT, or a function giving a current one for each request (they expire). */
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

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type NoExtra = Record<never, never>;

const seg = encodeURIComponent;
const roomPath = (r: RoomRef): string => `/v1/tenants/${seg(r.tenant)}/rooms/${seg(r.kind)}/${seg(r.slug)}`;

export function createClient(options: ClientOptions) {
  const base = String(options.baseUrl).replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  /** One request; answers outside 2xx (and `alsoOk`) become MatrixOrchestratorError. */
  async function send(
    method: Method,
    path: string,
    body: unknown,
    opts: CallOptions = {},
    { auth = true, alsoOk = [] as number[] } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth)
      headers.authorization = `Bearer ${typeof options.token === 'function' ? await options.token() : options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.requestId) headers['x-request-id'] = opts.requestId;
    const timeout = AbortSignal.timeout(timeoutMs);
    const res = await doFetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
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

  const operations = {
    /** `GET /v1/operations/{workflowId}`: where a workflow started through the API stands. */
    get: (workflowId: string, opts?: CallOptions) =>
      json<Operation>('GET', `/v1/operations/${seg(workflowId)}`, undefined, opts),
    /** Polls the operation until it is no longer running; throws when `timeoutMs` passes first. */
    async wait(workflowId: string, opts: WaitOptions = {}): Promise<Operation> {
      const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
      for (;;) {
        const op = await operations.get(workflowId, opts);
        if (op.status !== 'running') return op;
        if (Date.now() > deadline)
          throw new Error(`operation ${workflowId} still running after ${opts.timeoutMs ?? 60_000} ms`);
        await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
      }
    },
  };

  return {
    users: {
      /**
       * `POST /v1/tenants/{tenant}/users`: provisions the user (or, with `matrixUserId`, binds an existing
       * account), or updates the display name. Idempotent.
       */
      provision: (tenant: string, input: ProvisionUserInput, opts?: CallOptions) =>
        outcome<ProvisionedUser, UserKnown>('POST', `/v1/tenants/${seg(tenant)}/users`, input, opts),
      /** `POST …/users/{userSlug}/rename`: the user gets a new slug and keeps their Matrix account. Idempotent. */
      rename: (tenant: string, userSlug: string, input: RenameUserInput, opts?: CallOptions) =>
        json<RenamedUser>('POST', `/v1/tenants/${seg(tenant)}/users/${seg(userSlug)}/rename`, input, opts),
    },
    rooms: {
      /**
       * `PUT …/rooms/{kind}/{slug}`: the room exists with these settings (renames and topic changes apply);
       * with `adopt`, an existing room is taken over instead of creating one.
       */
      ensure: (ref: RoomRef, settings: EnsureRoomInput = {}, opts?: CallOptions) =>
        outcome<RoomChangeResult>('PUT', roomPath(ref), settings, opts),
      /** `GET …/rooms/{kind}/{slug}`: room id, alias, settings, desired members and roles. */
      get: (ref: RoomRef, opts?: CallOptions) => json<RoomView>('GET', roomPath(ref), undefined, opts),
      /** `DELETE …/rooms/{kind}/{slug}`: archives the room (everyone but the bot leaves). */
      archive: (ref: RoomRef, opts?: CallOptions) =>
        outcome<RoomChangeResult>('DELETE', roomPath(ref), undefined, opts),
      /** `POST …/rooms/{kind}/{slug}/reconcile`: compares with the desired state now and repairs drift. */
      reconcile: (ref: RoomRef, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `${roomPath(ref)}/reconcile`, undefined, opts),
    },
    members: {
      /** `PUT …/members/{userSlug}`: adds the member (provisioned first if needed) or changes their role. */
      set: <K extends Exclude<RoomKind, 'dm'>>(
        ref: RoomRef<K>,
        userSlug: string,
        input: MemberInput<K> = {},
        opts?: CallOptions,
      ) => outcome<RoomChangeResult>('PUT', `${roomPath(ref)}/members/${seg(userSlug)}`, input, opts),
      /** `DELETE …/members/{userSlug}`: removes the member. */
      remove: (ref: RoomRef<Exclude<RoomKind, 'dm'>>, userSlug: string, opts?: CallOptions) =>
        outcome<RoomChangeResult>('DELETE', `${roomPath(ref)}/members/${seg(userSlug)}`, undefined, opts),
    },
    dms: {
      /** `POST /v1/tenants/{tenant}/dms`: the DM room of two users (both at power level 50). */
      ensure: (tenant: string, input: DmInput, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `/v1/tenants/${seg(tenant)}/dms`, input, opts),
    },
    events: {
      /** `POST /v1/tenants/{tenant}/events`: one of the platform's `chat.*` events. */
      send: (tenant: string, event: PlatformEvent, opts?: CallOptions) =>
        outcome<RoomChangeResult>('POST', `/v1/tenants/${seg(tenant)}/events`, event, opts),
    },
    operations,
    /** `GET /healthz`: the process is alive. */
    health: async (opts?: CallOptions) =>
      (await (await send('GET', '/healthz', undefined, opts, { auth: false })).json()) as { status: 'ok' },
    /** `GET /readyz`: database, Temporal and homeserver checks; an unready (503) answer is returned, not thrown. */
    ready: async (opts?: CallOptions) =>
      (await (await send('GET', '/readyz', undefined, opts, { auth: false, alsoOk: [503] })).json()) as Readiness,
    /** `GET /metrics`: the Prometheus text exposition. */
    metrics: async (opts?: CallOptions) => (await send('GET', '/metrics', undefined, opts, { auth: false })).text(),
  };
}

export type MatrixOrchestratorClient = ReturnType<typeof createClient>;

async function errorFrom(res: Response): Promise<MatrixOrchestratorError> {
  const text = await res.text();
  let body: Partial<ErrorBody> | null = null;
  try {
    body = JSON.parse(text) as Partial<ErrorBody>;
  } catch {
    // not JSON: a proxy or load balancer answered
  }
  const requestId = res.headers.get('x-request-id');
  if (typeof body?.errcode === 'string')
    return new MatrixOrchestratorError(res.status, body.errcode, String(body.error ?? ''), requestId);
  const detail = text ? `: ${text.replace(/\s+/g, ' ').slice(0, 200)}` : '';
  return new MatrixOrchestratorError(res.status, 'M_UNKNOWN', `HTTP ${res.status}${detail}`, requestId);
}
