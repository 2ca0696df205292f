import { Hono } from 'hono';
import type { BlankSchema } from 'hono/types';
import { roomChange } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import type { ErrorCode } from '../errors.js';
import { operation, outcomeAnswers, ref, type Operation, below } from '../spec/operation.js';
import {
  addMemberFrom,
  dmFrom,
  DM_BODY,
  ensureFrom,
  MEMBER_BODY,
  removeMemberFrom,
  RENAME_BODY,
  renameFrom,
  roomRef,
  ROOM_SETTINGS_BODY,
} from '../room-input.js';
import { assertValid, readJsonObject, readOptionalJsonObject } from '../spec/validation.js';
import { object, optional, text } from '../spec/schema.js';
import { CANCEL_REASON_MAX } from '../../vocabulary/event-time.js';
import { lifecycleProblem } from '../../workflows/room-lifecycle.js';
import type { RoomChange } from '../../vocabulary/contract.js';
import { createRoomSlugStore } from '../../adapters/store/room-slugs.js';
import { entityOf } from '../room-slugs.js';
import { createRoomView } from '../room-view.js';

/** Where api/app.ts mounts this router; its routes are registered below it. */
export const ROOMS_PREFIX = '/v1/tenants/:tenant';

const ROOM = '/v1/tenants/:tenant/rooms/:kind/:slug';
const MEMBER = `${ROOM}/members/:userSlug` as const;
const CHANGE_ERRORS: ErrorCode[] = [
  'M_INVALID_PARAM',
  'OM_ROOM_RENAMED',
  'OM_ROOM_ARCHIVED',
  'OM_ROOM_MISSING',
  'OM_USER_DEACTIVATED',
  'OM_USER_RENAMED',
  'OM_USER_NOT_MANAGED',
  'OM_UPSTREAM_FAILED',
  'OM_UNAVAILABLE',
];
const CANCEL_BODY = object({ reason: optional(text(CANCEL_REASON_MAX, 'Said in the notice the bot posts.')) });
const change = { security: 'service', responses: outcomeAnswers('RoomChangeResult'), errors: CHANGE_ERRORS } as const;

const ops = {
  ensure: operation({
    ...change,
    method: 'put',
    path: ROOM,
    operationId: 'ensureRoom',
    summary: 'Ensure the room exists with these settings, or take over an existing one (`adopt`)',
    description: [
      'Renames and topic changes apply to an existing room. `encrypted` only for DMs; a DM cannot be public.',
      '`adopt: {roomId}` or `{alias}` takes over that room instead of creating one: same room, history kept, the',
      "service's alias added beside the room's own; the bot needs the top power level there (admin mode obtains it",
      'through make-room-admin; otherwise `409 OM_ROOM_NOT_ADOPTABLE` says what is missing). An entity never gets a',
      'second room: another room for one that has a room is `409 OM_ROOM_ADOPTION_CONFLICT`.',
    ].join(' '),
    tags: ['rooms'],
    body: { schema: ROOM_SETTINGS_BODY.json, required: false },
    errors: [...CHANGE_ERRORS, 'OM_ROOM_ADOPTION_CONFLICT', 'OM_ROOM_NOT_ADOPTABLE'],
  }),
  get: operation({
    method: 'get',
    path: ROOM,
    operationId: 'getRoom',
    summary: "The room's state: room id, alias, settings, desired members and roles, their memberships now, and its join requests",
    tags: ['rooms'],
    security: 'service',
    responses: { 200: { description: "The room workflow's state.", json: ref('RoomView') } },
    errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_ROOM_RENAMED', 'OM_ROOM_MISSING', 'OM_UNAVAILABLE'],
  }),
  rename: operation({
    ...change,
    method: 'post',
    path: `${ROOM}/rename`,
    operationId: 'renameRoom',
    summary: 'Move the entity to a new slug: same room, same members, the new alias canonical',
    description:
      'The old alias stays an alternative alias for `ROOM_OLD_ALIAS_KEEP_SECONDS`, then is removed. From the answer on, ' +
      'requests naming the old slug answer `409 OM_ROOM_RENAMED` with `newSlug`. Repeating the rename changes nothing; ' +
      'taking back a slug the entity had before is fine; another entity\'s slug answers `409 OM_SLUG_TAKEN`. Not for DMs.',
    tags: ['rooms'],
    body: { schema: RENAME_BODY.json },
    errors: [...CHANGE_ERRORS, 'M_NOT_FOUND', 'OM_SLUG_TAKEN'],
  }),
  archive: operation({
    ...change,
    method: 'delete',
    path: ROOM,
    operationId: 'archiveRoom',
    summary: 'Archive the room: everyone but the bot is removed',
    description: 'Later changes answer `409 OM_ROOM_ARCHIVED`.',
    tags: ['rooms'],
  }),
  unarchive: operation({
    ...change,
    method: 'post',
    path: `${ROOM}/unarchive`,
    operationId: 'unarchiveRoom',
    summary: 'Reopen an archived room: the same room, its desired members back, power levels as their roles give',
    description:
      'Sending is open to members again; timers already due stay done (decision 0053). A purged room cannot be reopened ' +
      '(`410 OM_ROOM_MISSING`). Reopening an active room changes nothing.',
    tags: ['rooms'],
  }),
  cancel: operation({
    ...change,
    method: 'post',
    path: `${ROOM}/cancel`,
    operationId: 'cancelEvent',
    summary: 'Cancel the event: the bot posts a notice (with `reason`), then the room is archived',
    description: 'Events only. Reopened with `POST …/unarchive`.',
    tags: ['rooms'],
    body: { schema: CANCEL_BODY.json, required: false },
  }),
  reconcile: operation({
    ...change,
    method: 'post',
    path: `${ROOM}/reconcile`,
    operationId: 'reconcileRoom',
    summary: 'Compare the room with its desired state now and repair drift',
    tags: ['rooms'],
  }),
  setMember: operation({
    ...change,
    method: 'put',
    path: MEMBER,
    operationId: 'setMember',
    summary: 'Add the member (role default `member`) or change their role',
    description: 'A user without a Matrix account is provisioned first. Not for DMs.',
    tags: ['members'],
    body: { schema: MEMBER_BODY.json, required: false },
  }),
  removeMember: operation({
    ...change,
    method: 'delete',
    path: MEMBER,
    operationId: 'removeMember',
    summary: 'Remove the member',
    tags: ['members'],
  }),
  dm: operation({
    ...change,
    method: 'post',
    path: '/v1/tenants/:tenant/dms',
    operationId: 'ensureDm',
    summary: 'The DM room of two users (both at power level 50)',
    tags: ['dms'],
    body: { schema: DM_BODY.json },
  }),
};
export const roomsOperations: Operation[] = Object.values(ops);

/**
 * Rooms as resources: `/v1/tenants/{tenant}/rooms/{kind}/{slug}` and its members. Every write is
 * idempotent (PUT / DELETE of desired state) and answers with the room workflow's outcome.
 */
export function roomsRoutes(deps: AppDeps) {
  const ref = (c: { req: { param(k: string): string } }, principal: Parameters<typeof roomRef>[0]) =>
    roomRef(principal, c.req.param('tenant'), c.req.param('kind'), c.req.param('slug'));

  const view = createRoomView(deps);

  return new Hono<ApiEnv, BlankSchema, typeof ROOMS_PREFIX>()
    .put(below(ROOMS_PREFIX, ops.ensure), async (c) => {
      const r = ref(c, c.get('principal'));
      return roomChange(c, deps, r, ensureFrom(r.kind, await readOptionalJsonObject(c)));
    })
    .delete(below(ROOMS_PREFIX, ops.archive), async (c) =>
      roomChange(c, deps, ref(c, c.get('principal')), { type: 'archive' }),
    )
    .post(below(ROOMS_PREFIX, ops.unarchive), async (c) => {
      const r = ref(c, c.get('principal'));
      assertValid(lifecycleProblem(r.kind, { type: 'unarchive' }));
      return roomChange(c, deps, r, { type: 'unarchive' });
    })
    .post(below(ROOMS_PREFIX, ops.cancel), async (c) => {
      const r = ref(c, c.get('principal'));
      const { reason } = CANCEL_BODY.parse(await readOptionalJsonObject(c));
      const change: RoomChange = { type: 'cancel', ...(reason ? { reason } : {}) };
      assertValid(lifecycleProblem(r.kind, change));
      return roomChange(c, deps, r, change);
    })
    .post(below(ROOMS_PREFIX, ops.reconcile), async (c) =>
      roomChange(c, deps, ref(c, c.get('principal')), { type: 'reconcile' }),
    )
    .post(below(ROOMS_PREFIX, ops.rename), async (c) => {
      const r = ref(c, c.get('principal'));
      return roomChange(c, deps, r, renameFrom(r.kind, RENAME_BODY.parse(await readJsonObject(c))));
    })
    .get(below(ROOMS_PREFIX, ops.get), async (c) => {
      const r = await entityOf(createRoomSlugStore(deps.db), ref(c, c.get('principal')), { claim: false });
      return c.json(await view(r));
    })
    .put(below(ROOMS_PREFIX, ops.setMember), async (c) => {
      const r = ref(c, c.get('principal'));
      const input = MEMBER_BODY.parse(await readOptionalJsonObject(c));
      return roomChange(c, deps, r, addMemberFrom(r.kind, c.req.param('userSlug'), input));
    })
    .delete(below(ROOMS_PREFIX, ops.removeMember), async (c) => {
      const r = ref(c, c.get('principal'));
      return roomChange(c, deps, r, removeMemberFrom(r.kind, c.req.param('userSlug')));
    })
    .post(below(ROOMS_PREFIX, ops.dm), async (c) => {
      const { ref: r, settings } = dmFrom(c.get('principal'), c.req.param('tenant'), await readJsonObject(c));
      return roomChange(c, deps, r, { type: 'ensure', settings });
    });
}
