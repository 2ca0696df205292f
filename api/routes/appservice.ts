/**
 * The application service API Synapse calls (authenticated by the hs_token): pushed transactions,
 * user and alias queries, and the ping. Routes live under `/_matrix/app/v1`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import type { BlankSchema } from 'hono/types';
import { bodyLimit } from 'hono/body-limit';
import { createEventLog, type IncomingEvent } from '../../adapters/store/events.js';
import { quoteBounded } from '../../vocabulary/describe.js';
import { tellRoomWorkflows } from '../join-request-signals.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError, respondError } from '../errors.js';
import { JsonBoundsError, parseBoundedJson, TRANSACTION_JSON_BOUNDS } from '../json-bounds.js';
import { emptyAnswer, operation, type Operation, below } from '../spec/operation.js';

/** Where api/app.ts mounts this router; its routes are registered below it. */
export const APPSERVICE_PREFIX = '/_matrix/app';

/** Synapse sends up to 100 events per transaction, each at most 64 KiB, plus ephemeral ones. */
export const MAX_TRANSACTION_BYTES = 32 * 1024 * 1024;
const UNSTABLE_EPHEMERAL = 'de.sorunome.msc2409.ephemeral';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** PostgreSQL text refuses NUL: an id containing one names nothing we stored, and cannot be stored. */
const hasNul = (v: unknown): boolean => typeof v === 'string' && v.includes('\u0000');
/**
 * The ids of an event are stored in indexed columns, whose entries PostgreSQL caps at about 2.7 kB;
 * Synapse refuses any of them longer than 255 bytes, so an event with one longer than this is not
 * from a homeserver and is skipped.
 */
export const EVENT_ID_FIELD_MAX_BYTES = 1_024;
/** A lone surrogate is stored as U+FFFD: two different ids would become one (and collide as keys). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorableId = (v: unknown): boolean =>
  typeof v === 'string' &&
  (v.includes('\u0000') || LONE_SURROGATE.test(v) || Buffer.byteLength(v) > EVENT_ID_FIELD_MAX_BYTES);
/** Event ids of skipped events a log line names (each cut), however many were skipped. */
const LOGGED_IDS_MAX = 10;

/**
 * The events of a transaction body worth keeping: timeline events with an id and a room, and
 * ephemeral events (typing, receipts) of a room. Presence and other roomless events are skipped
 * (`skipped` counts them); so are events that cannot be stored (an id with NUL or a lone surrogate,
 * or too long for its index), which `unstorable` names by event id: one bad event never blocks the
 * transaction.
 */
export function transactionEvents(body: Record<string, unknown>): {
  events: IncomingEvent[];
  skipped: number;
  unstorable: string[];
} {
  if (!Array.isArray(body.events)) throw new ApiError('M_BAD_JSON', 'field "events" must be an array');
  const ephemeral = body.ephemeral ?? body[UNSTABLE_EPHEMERAL] ?? [];
  if (!Array.isArray(ephemeral)) throw new ApiError('M_BAD_JSON', 'field "ephemeral" must be an array');
  const events: IncomingEvent[] = [];
  const unstorable: string[] = [];
  let skipped = 0;
  const take = (raw: unknown, isEphemeral: boolean): void => {
    if (
      !isObject(raw) ||
      typeof raw.room_id !== 'string' ||
      typeof raw.type !== 'string' ||
      (!isEphemeral && typeof raw.event_id !== 'string')
    ) {
      skipped += 1;
      return;
    }
    // Stored in text columns, which refuse NUL (the event's content may hold one: jsonForPg).
    if ([raw.room_id, raw.type, raw.event_id, raw.sender, raw.state_key].some(unstorableId)) {
      skipped += 1;
      unstorable.push(typeof raw.event_id === 'string' ? raw.event_id : '(no event id)');
      return;
    }
    events.push({ ephemeral: isEphemeral, event: raw as IncomingEvent['event'] });
  };
  for (const e of body.events) take(e, false);
  for (const e of ephemeral) take(e, true);
  return { events, skipped, unstorable };
}

/** Compares the presented token with the hs_token in constant time (digests hide the length too). */
export function hsTokenCheck(hsToken: string): MiddlewareHandler<ApiEnv> {
  const expected = digest(hsToken);
  return async (c, next) => {
    const header = c.req.header('authorization');
    const token = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : c.req.query('access_token');
    if (!token) throw new ApiError('M_UNAUTHORIZED', 'missing Authorization: Bearer <hs_token>');
    if (!timingSafeEqual(digest(token), expected))
      throw new ApiError('M_FORBIDDEN', "the hs_token presented is not this application service's");
    await next();
  };
}

const homeserverOp = { tags: ['homeserver'], security: 'homeserver' } as const;
const ops = {
  transaction: operation({
    ...homeserverOp,
    method: 'put',
    path: '/_matrix/app/v1/transactions/:txnId',
    operationId: 'appserviceTransaction',
    summary: 'The homeserver pushes a transaction of events',
    description: 'Stored in the event log before the answer; a repeated transaction id changes nothing.',
    body: {
      schema: {
        type: 'object',
        description: 'Matrix application service transaction (timeline events, and ephemeral ones).',
        properties: {
          events: { type: 'array', items: { type: 'object' } },
          ephemeral: { type: 'array', items: { type: 'object' } },
          [UNSTABLE_EPHEMERAL]: { type: 'array', items: { type: 'object' } },
        },
        required: ['events'],
      },
    },
    responses: { 200: emptyAnswer('Stored.') },
    errors: ['M_NOT_JSON', 'M_BAD_JSON', 'M_INVALID_PARAM', 'M_TOO_LARGE', 'OM_UNAVAILABLE'],
  }),
  user: operation({
    ...homeserverOp,
    method: 'get',
    path: '/_matrix/app/v1/users/:userId',
    operationId: 'appserviceUser',
    summary: 'Whether a user of our namespace exists (only those the service created do)',
    responses: { 200: emptyAnswer('It exists.') },
    errors: ['M_NOT_FOUND'],
  }),
  alias: operation({
    ...homeserverOp,
    method: 'get',
    path: '/_matrix/app/v1/rooms/:alias',
    operationId: 'appserviceRoomAlias',
    summary: 'Whether a room alias of our namespace exists (only those the service created do)',
    responses: { 200: emptyAnswer('It exists.') },
    errors: ['M_NOT_FOUND'],
  }),
  ping: operation({
    ...homeserverOp,
    method: 'post',
    path: '/_matrix/app/v1/ping',
    operationId: 'appservicePing',
    summary: 'The homeserver checks it can reach the application service',
    responses: { 200: emptyAnswer('Reachable.') },
  }),
};
export const appserviceOperations: Operation[] = Object.values(ops);

export function appserviceRoutes(deps: Pick<AppDeps, 'config' | 'db' | 'log' | 'relay'> & Partial<Pick<AppDeps, 'temporal'>>) {
  const { botLocalpart, serverName } = deps.config.matrix;
  const eventLog = deps.relay?.log ?? createEventLog(deps.db, { serviceUserId: `@${botLocalpart}:${serverName}` });
  return new Hono<ApiEnv, BlankSchema, typeof APPSERVICE_PREFIX>()
    .use(
      '/*',
      bodyLimit({
        maxSize: MAX_TRANSACTION_BYTES,
        onError: (c) => respondError(c, 'M_TOO_LARGE', `request body exceeds ${MAX_TRANSACTION_BYTES} bytes`),
      }),
      hsTokenCheck(deps.config.matrix.hsToken),
    )
    .put(below(APPSERVICE_PREFIX, ops.transaction), async (c) => {
      const txnId = c.req.param('txnId');
      if (txnId.length === 0 || txnId.length > 255)
        throw new ApiError('M_INVALID_PARAM', 'transaction id must be 1-255 characters');
      if (hasNul(txnId)) throw new ApiError('M_INVALID_PARAM', 'transaction id must not contain NUL');
      let body: unknown;
      try {
        // Bounded only by what cannot be walked safely (decision 0021): anything a homeserver sends passes.
        body = parseBoundedJson(await c.req.text(), TRANSACTION_JSON_BOUNDS, 'transaction body');
      } catch (err) {
        if (err instanceof JsonBoundsError) throw new ApiError(err.errcode, err.message);
        throw err;
      }
      if (!isObject(body)) throw new ApiError('M_BAD_JSON', 'transaction body must be a JSON object');
      const { events, skipped, unstorable } = transactionEvents(body);
      if (unstorable.length > 0)
        deps.log.warn(
          {
            txnId: quoteBounded(txnId),
            unstorable: unstorable.length,
            eventIds: unstorable.slice(0, LOGGED_IDS_MAX).map((id) => quoteBounded(id)),
          },
          'relay: skipped events that cannot be stored (an id with NUL, a lone surrogate, or too long); the rest of the transaction is stored',
        );
      const verdict = (await deps.relay?.gaps.admit(txnId)) ?? { action: 'store' };
      if (verdict.action === 'refuse') {
        // Synapse keeps it and starts a recovery, which sends what it held back first (decision 0020).
        const [from, to] = verdict.missing;
        deps.log.info(
          { txnId, missing: { from, to } },
          'relay: transactions missing before this one; refused it once so the homeserver sends them first',
        );
        deps.relay?.requestResend();
        throw new ApiError('OM_UNAVAILABLE', `transactions ${from}-${to} have not arrived: send them before this one`);
      }
      // Acknowledged only after the commit: a crash before it makes Synapse send the same transaction again.
      const { joinRequests, ...result } = await eventLog.append(txnId, events);
      deps.log.debug({ txnId, ...result, skipped }, 'appservice transaction');
      if (joinRequests && deps.temporal) void tellRoomWorkflows({ temporal: deps.temporal, log: deps.log }, joinRequests);
      if (verdict.settled) {
        const { recovered, missing } = verdict.settled;
        if (recovered.length > 0)
          deps.log.warn(
            { txnId, recovered },
            'relay: the homeserver had held back transactions; they are in the log now',
          );
        else
          deps.log.info(
            { txnId, missing: { from: missing[0], to: missing[1] } },
            'relay: the missing transaction ids were not ours (another appservice on the homeserver?); gaps are left alone for a while',
          );
      }
      if (!result.duplicate) deps.relay?.feed.kick();
      return c.json({}, 200);
    })
    .get(below(APPSERVICE_PREFIX, ops.user), async (c) => {
      // Users are created by their workflows, never on the homeserver's demand: known ones exist.
      const userId = c.req.param('userId');
      const r = hasNul(userId) ? null : await deps.db.query('SELECT 1 FROM matrix_users WHERE user_id = $1', [userId]);
      if (!r?.rowCount) throw new ApiError('M_NOT_FOUND', 'no such user in this application service');
      return c.json({}, 200);
    })
    .get(below(APPSERVICE_PREFIX, ops.alias), async (c) => {
      // Likewise rooms: an alias exists when a room workflow created the room behind it.
      const alias = c.req.param('alias');
      const r = hasNul(alias)
        ? null
        : await deps.db.query('SELECT 1 FROM rooms WHERE alias = $1 AND room_id IS NOT NULL', [alias]);
      if (!r?.rowCount) throw new ApiError('M_NOT_FOUND', 'no such room alias in this application service');
      return c.json({}, 200);
    })
    .post(below(APPSERVICE_PREFIX, ops.ping), (c) => c.json({}, 200));
}
