/**
 * The drift report (decision 0059): `GET /v1/tenants/{tenant}/drift` (a page of the tenant's rooms)
 * and `GET /v1/tenants/{tenant}/rooms/{kind}/{slug}/drift` (one room): what differs between the
 * desired state and the homeserver now, and what the last reconciliations did about it. Reads only.
 */
import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { createRoomSlugStore } from '../../adapters/store/room-slugs.js';
import { RUNS_LOOKED_AT } from '../../adapters/store/reconcile-runs.js';
import { isRoomKind, roomSlugProblem } from '../../vocabulary/ids.js';
import { authorizedTenant } from '../auth.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { createDriftReader, DRIFT_PAGE } from '../drift.js';
import { ApiError } from '../errors.js';
import { roomRef } from '../room-input.js';
import { entityOf } from '../room-slugs.js';
import { operation } from '../spec/operation.js';
import type { JsonSchema } from '../spec/schema.js';

const str: JsonSchema = { type: 'string' };
const strs: JsonSchema = { type: 'array', items: str };
const nullableStr: JsonSchema = { type: ['string', 'null'] };
const RUN: JsonSchema = {
  type: ['object', 'null'],
  properties: { startedAt: str, finishedAt: str, actions: strs, error: str },
};
const ROOM_DRIFT: JsonSchema = {
  type: 'object',
  properties: {
    kind: str,
    slug: { ...str, description: "The entity's first slug (as reconciliation records it)." },
    roomId: nullableStr,
    state: { type: 'string', enum: ['in_sync', 'drift', 'missing', 'archived', 'unknown'] },
    missing: { ...str, description: 'Why the room is missing (reconciliation cannot bring it back).' },
    error: { ...str, description: 'Why the room could not be compared (`unknown`).' },
    membersMissing: {
      type: 'array',
      items: { type: 'object', properties: { userSlug: str, userId: str, membership: nullableStr } },
    },
    membersExtra: { type: 'array', items: { type: 'object', properties: { userId: str, membership: nullableStr } } },
    powerLevels: { ...strs, description: 'What reconciliation would write, e.g. `power level @u 0→50`.' },
    settings: {
      type: 'array',
      items: { type: 'object', properties: { setting: { type: 'string', enum: ['name', 'topic'] }, want: str, have: nullableStr } },
    },
    joinRule: {
      type: 'object',
      description: 'The join rule the visibility gives, when the room has another (reported; reconciliation leaves it).',
      properties: { want: str, have: nullableStr },
    },
    reconciliation: {
      type: 'object',
      description: `What reconciliation did: its latest run for the tenant (the actions for this room; [] = nothing to fix), and the latest of its last ${RUNS_LOOKED_AT} runs that fixed something here.`,
      properties: { lastRun: RUN, lastFix: RUN },
    },
  },
  required: ['kind', 'slug', 'roomId', 'state', 'membersMissing', 'membersExtra', 'powerLevels', 'settings', 'reconciliation'],
};

const base = { tags: ['drift'], security: 'service' } as const;
const ops = {
  tenant: operation({
    ...base,
    method: 'get',
    path: '/v1/tenants/:tenant/drift',
    operationId: 'tenantDrift',
    summary: "A page of the tenant's rooms compared with the homeserver now, and what reconciliation last did",
    description: `Reads only: nothing is repaired. Rooms in kind/slug order, at most ${DRIFT_PAGE.max} a page (each costs about six reads of the homeserver); archived rooms are left out.`,
    query: [
      { name: 'after', description: 'The `next` of the previous page (`kind/slug`).', schema: { type: 'string', maxLength: 300 } },
      {
        name: 'limit',
        description: `Rooms per page (default ${DRIFT_PAGE.default}).`,
        schema: { type: 'integer', minimum: 1, maximum: DRIFT_PAGE.max },
      },
    ],
    responses: {
      200: {
        description: 'A page of rooms.',
        json: {
          type: 'object',
          properties: { rooms: { type: 'array', items: ROOM_DRIFT }, next: { ...nullableStr, description: 'Pass as `after`; null on the last page.' } },
          required: ['rooms', 'next'],
        },
      },
    },
    errors: ['M_INVALID_PARAM', 'OM_UNAVAILABLE'],
  }),
  room: operation({
    ...base,
    method: 'get',
    path: '/v1/tenants/:tenant/rooms/:kind/:slug/drift',
    operationId: 'roomDrift',
    summary: 'One room compared with the homeserver now, and what reconciliation last did about it',
    description: 'Reads only: nothing is repaired.',
    responses: { 200: { description: "The room's drift.", json: ROOM_DRIFT } },
    errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_ROOM_RENAMED', 'OM_UNAVAILABLE'],
  }),
};
export const driftOperations = Object.values(ops);

/** `kind/slug`, checked. */
function cursorOf(raw: string | undefined) {
  if (raw === undefined) return null;
  const sep = raw.indexOf('/');
  const kind = raw.slice(0, sep);
  const slug = raw.slice(sep + 1);
  if (sep < 0 || !isRoomKind(kind) || roomSlugProblem(kind, slug))
    throw new ApiError('M_INVALID_PARAM', 'query "after" must be the `next` of a previous page (`kind/slug`)');
  return { kind, slug };
}

/** Mounted at `/`; the paths are the operations' own. */
export function driftRoutes(deps: AppDeps) {
  const reader = createDriftReader(deps.config, deps.db);
  const slugs = createRoomSlugStore(deps.db);
  return new Hono<ApiEnv, BlankSchema, '/'>()
    .get(ops.tenant.path, async (c) => {
      const tenant = authorizedTenant(c.get('principal'), c.req.param('tenant'));
      const limitRaw = c.req.query('limit') ?? String(DRIFT_PAGE.default);
      if (!/^\d{1,3}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > DRIFT_PAGE.max)
        throw new ApiError('M_INVALID_PARAM', `query "limit" must be an integer from 1 to ${DRIFT_PAGE.max}`);
      return c.json(await reader.page(tenant, cursorOf(c.req.query('after')), Number(limitRaw)), 200);
    })
    .get(ops.room.path, async (c) => {
      const named = roomRef(c.get('principal'), c.req.param('tenant'), c.req.param('kind'), c.req.param('slug'));
      const ref = await entityOf(slugs, named, { claim: false });
      const line = await reader.room(ref.tenant, ref.kind, ref.slug);
      if (!line) throw new ApiError('M_NOT_FOUND', `no ${ref.kind} "${named.slug}" for tenant ${ref.tenant}`);
      return c.json(line, 200);
    });
}
