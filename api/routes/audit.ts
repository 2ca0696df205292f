/**
 * The audit trail (decision 0060): `GET /v1/tenants/{tenant}/audit?room=&user=&since=&until=&cursor=&limit=`,
 * the changes the service made on the homeserver for the tenant, newest first, for one room, one
 * user, or both; entries are kept AUDIT_RETENTION_DAYS.
 */
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { queryAudit, type AuditRecord } from '../../adapters/store/audit.js';
import { createRoomSlugStore } from '../../adapters/store/room-slugs.js';
import { isRoomKind, roomSlugProblem, slugProblem, type RoomKind } from '../../vocabulary/ids.js';
import { describeValue } from '../../vocabulary/describe.js';
import { authorizedTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { operation } from '../spec/operation.js';
import type { JsonSchema } from '../spec/schema.js';

export const AUDIT_PAGE_MAX = 500;
const AUDIT_PAGE_DEFAULT = 100;

const str: JsonSchema = { type: 'string' };
const nullableStr: JsonSchema = { type: ['string', 'null'] };
const ENTRIES: JsonSchema = {
  type: 'object',
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          at: { ...str, description: 'When the outcome was recorded (ISO 8601).' },
          subject: { ...nullableStr, description: 'Who asked: the service token\'s `sub`, `user:{slug}`, or `service:…` for the service\'s own changes.' },
          requestId: { ...nullableStr, description: 'The request id (`X-Request-Id`).' },
          operation: { ...str, description: '`room.ensure`, `member.add`, `member.role`, `members.set`, `user.provision`, `message.send`, …' },
          room: { type: ['object', 'null'], description: '`{kind, slug, roomId}`: the room entity (its first slug).' },
          userSlug: { ...nullableStr, description: 'The user the change concerns (`forgotten-…` once erased).' },
          detail: { ...nullableStr, description: 'The change in short (never a message body or a display name).' },
          actions: { type: 'array', items: str, description: 'What was done on the homeserver; empty: nothing needed doing.' },
          outcome: { type: 'string', enum: ['done', 'failed'] },
          errorType: { ...nullableStr, description: 'The failure type when `failed`.' },
          pseudonymized: { type: 'boolean' },
        },
      },
    },
    next: { type: ['integer', 'null'], description: 'Pass as `cursor` for older entries; null on the last page.' },
  },
  required: ['entries', 'next'],
};

const ops = {
  list: operation({
    tags: ['audit'],
    security: 'service',
    method: 'get',
    path: '/v1/tenants/:tenant/audit',
    operationId: 'listAudit',
    summary: 'What the service changed on the homeserver for the tenant, newest first: who asked, what, when, the outcome',
    query: [
      { name: 'room', description: 'Only this room: `kind/slug` (any slug the room has had).', schema: { type: 'string', maxLength: 300 } },
      { name: 'user', description: 'Only changes concerning this user slug.', schema: { type: 'string', maxLength: 100 } },
      { name: 'since', description: 'Entries at or after this time (ISO 8601).', schema: { type: 'string', format: 'date-time' } },
      { name: 'until', description: 'Entries before this time (ISO 8601).', schema: { type: 'string', format: 'date-time' } },
      { name: 'cursor', description: 'The `next` of the previous page.', schema: { type: 'integer', minimum: 1 } },
      {
        name: 'limit',
        description: `Entries per page (default ${AUDIT_PAGE_DEFAULT}).`,
        schema: { type: 'integer', minimum: 1, maximum: AUDIT_PAGE_MAX },
      },
    ],
    responses: { 200: { description: 'A page of entries.', json: ENTRIES } },
    errors: ['M_INVALID_PARAM', 'OM_UNAVAILABLE'],
  }),
};
export const auditOperations = Object.values(ops);

const invalid = (message: string): ApiError => new ApiError('M_INVALID_PARAM', message);

function timeParam(raw: string | undefined, name: string): Date | undefined {
  if (raw === undefined) return undefined;
  // A date, or a date and time (with a zone or Z): what Date.parse reads the same everywhere.
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(raw) ? Date.parse(raw) : NaN;
  if (Number.isNaN(ms)) throw invalid(`query "${name}" must be an ISO 8601 time like 2026-01-31T12:00:00Z, not ${describeValue(raw)}`);
  return new Date(ms);
}

function roomParam(raw: string): { kind: RoomKind; slug: string } {
  const at = raw.indexOf('/');
  const kind = at < 0 ? raw : raw.slice(0, at);
  if (at < 0 || !isRoomKind(kind)) throw invalid('query "room" must be kind/slug, kind one of event, group, dm');
  const slug = raw.slice(at + 1);
  const problem = roomSlugProblem(kind, slug);
  if (problem) throw invalid(`query "room": ${problem}`);
  return { kind, slug };
}

const answer = (e: AuditRecord) => ({ ...e, at: e.at.toISOString() });

/** Mounted at `/`; the path is the operation's own. */
export function auditRoutes(deps: AppDeps) {
  const slugs = createRoomSlugStore(deps.db);
  return new Hono<ApiEnv, BlankSchema, '/'>().get(ops.list.path, async (c) => {
    const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
    const q = (name: string): string | undefined => c.req.query(name);
    const userSlug = q('user');
    if (userSlug !== undefined) {
      const problem = slugProblem(userSlug, 'query "user"');
      if (problem) throw invalid(problem);
    }
    const limitRaw = q('limit') ?? String(AUDIT_PAGE_DEFAULT);
    if (!/^\d{1,4}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > AUDIT_PAGE_MAX)
      throw invalid(`query "limit" must be an integer from 1 to ${AUDIT_PAGE_MAX}`);
    const cursorRaw = q('cursor');
    if (cursorRaw !== undefined && (!/^\d{1,15}$/.test(cursorRaw) || Number(cursorRaw) < 1))
      throw invalid('query "cursor" must be the "next" of a previous page (a positive integer)');
    const since = timeParam(q('since'), 'since');
    const until = timeParam(q('until'), 'until');
    const roomRaw = q('room');
    let room: { kind: RoomKind; slug: string } | undefined;
    if (roomRaw !== undefined) {
      const named = roomParam(roomRaw);
      // Entries name the entity by its first slug: any slug it has had leads there.
      const route = await slugs.find(tenant, named.kind, named.slug);
      room = { kind: named.kind, slug: route?.entity ?? named.slug };
    }
    const page = await queryAudit(deps.db, {
      tenant,
      ...(room ? { room } : {}),
      ...(userSlug !== undefined ? { userSlug } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(cursorRaw !== undefined ? { before: Number(cursorRaw) } : {}),
      limit: Number(limitRaw),
    });
    return c.json({ entries: page.entries.map(answer), next: page.next }, 200);
  });
}
