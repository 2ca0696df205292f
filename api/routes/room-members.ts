import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { BlankSchema } from 'hono/types';
import { MEMBER_LIST_MAX, MEMBER_LIST_MAX_BYTES, memberListProblem, type ListedMember } from '../../vocabulary/member-list.js';
import type { RoomKind } from '../../vocabulary/ids.js';
import type { RoomChange } from '../../vocabulary/contract.js';
import { roomChange } from '../changes.js';
import type { ApiEnv, AppDeps } from '../context.js';
import { ApiError, respondError } from '../errors.js';
import { CLIENT_JSON_BOUNDS, type JsonBounds } from '../json-bounds.js';
import { roomRef } from '../room-input.js';
import { displayName, role, SLUG_JSON } from '../spec/fields.js';
import { below, operation, outcomeAnswers } from '../spec/operation.js';
import { readJsonObject, rejectUnknownFields } from '../spec/validation.js';
import { ROOMS_PREFIX } from './rooms.js';

/** Paths the app's 64 KiB body limit leaves to this route's own (MEMBER_LIST_MAX_BYTES). */
export const isMemberListPath = (path: string): boolean => /^\/v1\/tenants\/[^/]+\/rooms\/[^/]+\/[^/]+\/members$/.test(path);

/** The client bounds, but arrays as long as the body allows: a list over MEMBER_LIST_MAX is a 400 saying so. */
export const MEMBER_LIST_JSON_BOUNDS: JsonBounds = Object.freeze({ ...CLIENT_JSON_BOUNDS, maxItems: MEMBER_LIST_MAX_BYTES });

/** The body limit of the routes that take a member list: a 413 naming it. */
export const memberListBodyLimit = () =>
  bodyLimit({
    maxSize: MEMBER_LIST_MAX_BYTES,
    onError: (c) => respondError(c, 'M_TOO_LARGE', `request body exceeds ${MEMBER_LIST_MAX_BYTES} bytes`),
  });

/** The list's schema; with `kind`, only that kind's roles. */
export const memberListJson = (kind?: RoomKind) => ({
  type: 'array' as const,
  maxItems: MEMBER_LIST_MAX,
  description: 'Every member the room should have, each once; an empty list empties the room.',
  items: {
    type: 'object',
    properties: {
      userSlug: SLUG_JSON,
      role: { ...role(kind).json, description: "The member's role (default `member`), one of the room kind's." },
      displayName: displayName('Used when the member has no Matrix account yet (default: the slug).').json,
    },
    required: ['userSlug'],
    additionalProperties: false,
  },
});

/** A checked list → the change; roles left out are `member`. */
export function setMembersFrom(kind: RoomKind, members: unknown): RoomChange {
  const problem = memberListProblem(kind, members);
  if (problem) throw new ApiError(Array.isArray(members) ? 'M_INVALID_PARAM' : 'M_BAD_JSON', problem);
  const list = (members as Partial<ListedMember>[]).map(
    ({ userSlug, role: r, displayName: name }): ListedMember => ({
      userSlug: userSlug!,
      role: r ?? 'member',
      ...(name !== undefined ? { displayName: name } : {}),
    }),
  );
  return { type: 'setMembers', members: list };
}

const setMembers = operation({
  method: 'put',
  path: '/v1/tenants/:tenant/rooms/:kind/:slug/members',
  operationId: 'setMembers',
  summary: "Set the room's complete member list: the unlisted removed, the listed added or given their role",
  description: [
    `Up to ${MEMBER_LIST_MAX.toLocaleString('en')} members and ${MEMBER_LIST_MAX_BYTES / 1024} KiB. One room change with one`,
    'outcome naming what changed; members without a Matrix account are provisioned together first; the power',
    'levels are written once. Idempotent: the same list again changes nothing and writes nothing to the',
    "homeserver (it reads the room's members once, and brings back listed members who left behind the",
    "service's back). A member the homeserver refused is listed under `members.failed`; the rest goes ahead.",
  ].join(' '),
  tags: ['members'],
  security: 'service',
  body: {
    schema: { type: 'object', properties: { members: memberListJson() }, required: ['members'], additionalProperties: false },
  },
  responses: outcomeAnswers('MemberListResult'),
  errors: [
    'M_INVALID_PARAM',
    'M_TOO_LARGE',
    'OM_ROOM_RENAMED',
    'OM_ROOM_ARCHIVED',
    'OM_ROOM_MISSING',
    'OM_USER_RENAMED',
    'OM_UPSTREAM_FAILED',
    'OM_UNAVAILABLE',
  ],
});
export const memberListOperations = [setMembers];

/** `PUT /v1/tenants/{tenant}/rooms/{kind}/{slug}/members` `{members: [...]}`. Mounted at ROOMS_PREFIX. */
export function memberListRoutes(deps: AppDeps) {
  return new Hono<ApiEnv, BlankSchema, typeof ROOMS_PREFIX>().put(
    below(ROOMS_PREFIX, setMembers),
    memberListBodyLimit(),
    async (c) => {
      const ref = roomRef(c.get('principal'), c.req.param('tenant'), c.req.param('kind'), c.req.param('slug'));
      const body = await readJsonObject(c, MEMBER_LIST_MAX_BYTES, MEMBER_LIST_JSON_BOUNDS);
      rejectUnknownFields(body, ['members']);
      if (body.members === undefined) throw new ApiError('M_BAD_JSON', 'missing field "members"');
      return roomChange(c, deps, ref, setMembersFrom(ref.kind, body.members));
    },
  );
}
