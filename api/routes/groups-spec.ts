/** The group routes' operations (decision 0051): a group's bans, the tenant's space settings. Handlers in groups.ts. */
import { EVENT_ROOM_JOIN } from '../../vocabulary/spaces.js';
import { BAN_BODY, SPACE_SETTINGS_BODY } from '../space-input.js';
import { operation } from '../spec/operation.js';
import type { JsonSchema } from '../spec/schema.js';

const str: JsonSchema = { type: 'string' };
const strings: JsonSchema = { type: 'array', items: str };

const ROOM_OUTCOME: JsonSchema = {
  type: 'object',
  description:
    'What one room of the group did: `completed` with its actions, `running` (follow `operation`), or `failed` with the error (the room catches up at its next change or reconciliation).',
  properties: {
    kind: { type: 'string', enum: ['group', 'event'] },
    slug: str,
    status: { type: 'string', enum: ['completed', 'running', 'failed'] },
    actions: strings,
    operation: str,
    error: str,
  },
  required: ['kind', 'slug', 'status'],
};

const BAN_ANSWER: JsonSchema = {
  type: 'object',
  properties: {
    tenant: str,
    group: { ...str, description: "The group's slug as the request named it." },
    userSlug: str,
    banned: { type: 'boolean', description: 'Whether the ban holds now.' },
    rooms: { type: 'array', items: ROOM_OUTCOME, description: "The group's room and its event rooms, each told." },
  },
  required: ['tenant', 'group', 'userSlug', 'banned', 'rooms'],
};

const BANS: JsonSchema = {
  type: 'object',
  properties: {
    bans: {
      type: 'array',
      items: {
        type: 'object',
        properties: { userSlug: str, reason: { type: ['string', 'null'] } },
        required: ['userSlug', 'reason'],
      },
    },
  },
  required: ['bans'],
};

const SETTINGS: JsonSchema = {
  type: 'object',
  properties: { tenant: str, eventRooms: { type: 'string', enum: [...EVENT_ROOM_JOIN] } },
  required: ['tenant', 'eventRooms'],
};

const BAN_PATH = '/v1/tenants/:tenant/groups/:slug/bans/:userSlug';
const base = { tags: ['groups'], security: 'service' } as const;
const banErrors = ['M_INVALID_PARAM', 'M_BAD_JSON', 'M_FORBIDDEN', 'M_NOT_FOUND', 'OM_ROOM_RENAMED', 'OM_USER_RENAMED', 'OM_UNAVAILABLE'] as const;

export const groupOps = {
  ban: operation({
    ...base,
    method: 'put',
    path: BAN_PATH,
    operationId: 'banFromGroup',
    summary: "Ban the user from the group: its space, its room and every event room of the group, also those created later",
    description:
      'The user leaves the desired members of each room and is banned there by the bot; while the ban holds, adding them to a room of the group answers `409 OM_USER_BANNED`, and reconciliation leaves them out. Repeating it changes nothing (a new `reason` is kept for rooms banned later).',
    body: { schema: BAN_BODY.json, required: false },
    responses: { 200: { description: 'Recorded, and what each room did.', json: BAN_ANSWER } },
    errors: [...banErrors],
  }),
  unban: operation({
    ...base,
    method: 'delete',
    path: BAN_PATH,
    operationId: 'unbanFromGroup',
    summary: 'Lift the ban: the user may join the rooms of the group again (they are not added back)',
    query: [
      {
        name: 'actorSlug',
        description: "The group's moderator acting; their role in the group is checked. Without it, the platform acts on its own authority.",
        schema: { type: 'string', maxLength: 100 },
      },
    ],
    responses: { 200: { description: 'Lifted, and what each room did.', json: BAN_ANSWER } },
    errors: [...banErrors],
  }),
  bans: operation({
    ...base,
    method: 'get',
    path: '/v1/tenants/:tenant/groups/:slug/bans',
    operationId: 'listGroupBans',
    summary: "The group's bans in force",
    responses: { 200: { description: 'The bans.', json: BANS } },
    errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_ROOM_RENAMED', 'OM_UNAVAILABLE'],
  }),
  putSettings: operation({
    ...base,
    method: 'put',
    path: '/v1/tenants/:tenant/settings/spaces',
    operationId: 'putSpaceSettings',
    summary: "Who may join the private event rooms of the tenant's groups",
    description:
      "`group-members`: join rule `restricted` to members of the group's space (they join from any client); `invite`: invite only (the default). A room takes it at its next change or reconciliation.",
    body: { schema: SPACE_SETTINGS_BODY.json },
    responses: { 200: { description: 'The settings now.', json: SETTINGS } },
    errors: ['M_INVALID_PARAM', 'M_BAD_JSON', 'OM_UNAVAILABLE'],
  }),
  getSettings: operation({
    ...base,
    method: 'get',
    path: '/v1/tenants/:tenant/settings/spaces',
    operationId: 'getSpaceSettings',
    summary: "The tenant's space settings",
    responses: { 200: { description: 'The settings.', json: SETTINGS } },
    errors: ['M_INVALID_PARAM', 'OM_UNAVAILABLE'],
  }),
};
export const groupOperations = Object.values(groupOps);
