/**
 * The fields and path parameters the API's bodies and paths share, with the grammars of
 * vocabulary/ids.ts: what the routes read and what the OpenAPI spec says are the same objects.
 */
import {
  CLIENT_TXN_ID_PATTERN,
  clientTxnIdProblem,
  ROLES_BY_KIND,
  ROOM_KINDS,
  SLUG_MAX_LENGTH,
  SLUG_PATTERN,
  slugProblem,
  TENANT_INPUT_PATTERN,
  type RoomKind,
} from '../../vocabulary/ids.js';
import { DISPLAY_NAME_MAX_LENGTH } from '../../vocabulary/contract.js';
import { MATRIX_USER_ID } from '../../vocabulary/identity.js';
import type { RoomAdoption } from '../../vocabulary/contract.js';
import { ApiError } from '../errors.js';
import { choice, flag, formatted, optional, str, text, type Field, type JsonSchema } from './schema.js';

/** Slugs are read up to this length (any longer is refused as such), then checked by `slugProblem`. */
const SLUG_READ_LIMIT = 1000;

export const SLUG_JSON: JsonSchema = {
  type: 'string',
  maxLength: SLUG_MAX_LENGTH,
  pattern: SLUG_PATTERN.source,
  description: 'A platform slug: 1-100 of A-Z a-z 0-9 . _ -, starting with a letter or digit.',
};

/** A platform slug (user or room), named by its field in the messages. */
export const slug = (description?: string) =>
  formatted(SLUG_READ_LIMIT, (v, name) => slugProblem(v, name), {
    ...SLUG_JSON,
    ...(description ? { description } : {}),
  });

export const displayName = (description = 'The Matrix display name.') => text(DISPLAY_NAME_MAX_LENGTH, description);

const allRoles = [...new Set(Object.values(ROLES_BY_KIND).flat())];

/** A role: the spec lists those of `kind` (or every kind's); the route checks it against the room's kind. */
export function role(kind?: RoomKind) {
  const roles = kind ? ROLES_BY_KIND[kind] : allRoles;
  const perKind = (Object.keys(ROLES_BY_KIND) as RoomKind[])
    .map((k) => `${k}: ${ROLES_BY_KIND[k].join(', ')}`)
    .join('; ');
  return formatted(32, () => null, {
    enum: [...roles],
    description: kind ? `The member's role in the ${kind}.` : `The member's role, one of its room kind's (${perKind}).`,
  });
}

export const settingsFields = {
  name: optional(text(255, 'The room name.')),
  topic: optional(text(4096, 'The room topic.')),
  visibility: optional(
    choice(
      ['public', 'private'] as const,
      'public: anyone may join and the room is in the directory; private (default): invite only. A DM cannot be public.',
    ),
  ),
  knock: optional(
    flag(
      'Matrix users may ask to join (join rule `knock`, `knock_restricted` in a restricted room): each knock reaches the platform (`member.knocked`) to approve or refuse through `POST …/requests/{user}`. false: back to the visibility\'s rule. Not for DMs.',
    ),
  ),
};

export const encrypted = optional(flag('End-to-end encryption, for DMs only and only at creation.'));

export const txnId = formatted(64, (v) => clientTxnIdProblem(v), {
  pattern: CLIENT_TXN_ID_PATTERN.source,
  description:
    'Chosen by the client (e.g. a UUID): one message per transaction id and user, however often it is sent.',
});

/**
 * Whom a relay request acts as. With a service JWT it is required and must be a slug; with a user
 * JWT it may only name the token's own user. The route checks which (it depends on the token).
 */
export const actingUser = optional(
  str({
    ...SLUG_JSON,
    description: 'The user to act as: required with a service JWT; with a user JWT, only its own user.',
  }),
);

/** An existing Matrix account to bind a platform user to (adoption); the route checks it further. */
export const matrixUserIdField = str({
  maxLength: 255,
  pattern: MATRIX_USER_ID.source,
  description:
    'Bind the user to this existing Matrix account instead of creating one (adoption), e.g. `@alice:example.org`. Not in the service\'s own namespace (`@om_…` of this server), nor the bot or the admin.',
});

/** Room ids: `!` and the opaque rest (room version 12 has no `:server` part); at most 255 bytes. */
const ROOM_ID = /^![\x21-\x7e]{1,254}$/;
/** Room aliases: `#localpart:server`, like user ids. */
const ROOM_ALIAS = new RegExp(`^#${MATRIX_USER_ID.source.slice(2)}`);

/** `adopt`: an existing room to take over, named by its id or by one of its aliases (exactly one). */
export const adoptField: Field<RoomAdoption> = {
  optional: false,
  json: {
    type: 'object',
    description:
      'Take over this existing room instead of creating one: `{roomId: "!abc:example.org"}` or `{alias: "#general:example.org"}`.',
    oneOf: [
      {
        properties: { roomId: { type: 'string', maxLength: 255, pattern: ROOM_ID.source } },
        required: ['roomId'],
        additionalProperties: false,
      },
      {
        properties: { alias: { type: 'string', maxLength: 255, pattern: ROOM_ALIAS.source } },
        required: ['alias'],
        additionalProperties: false,
      },
    ],
  },
  read(body, name) {
    const v = body[name];
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApiError('M_BAD_JSON', `field "${name}" must be a JSON object`);
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length !== 1 || (keys[0] !== 'roomId' && keys[0] !== 'alias'))
      throw new ApiError('M_BAD_JSON', `field "${name}" names the room by exactly one of "roomId" or "alias"`);
    const key = keys[0];
    const value = o[key];
    const grammar = key === 'roomId' ? ROOM_ID : ROOM_ALIAS;
    if (typeof value !== 'string' || value.length > 255 || !grammar.test(value))
      throw new ApiError(
        'M_INVALID_PARAM',
        `field "${name}.${key}" must be a Matrix ${key === 'roomId' ? 'room id like "!abc:example.org"' : 'room alias like "#general:example.org"'}`,
      );
    return key === 'roomId' ? { roomId: value } : { alias: value };
  },
};

/** Path parameters by name: the spec describes each `{name}` of a path with these. */
export const PATH_PARAMS: Readonly<Record<string, JsonSchema>> = {
  tenant: {
    type: 'string',
    maxLength: 32,
    pattern: TENANT_INPUT_PATTERN.source,
    description:
      'The tenant: 1-32 of a-z 0-9 -, not starting or ending with "-". Upper case is read as lower case: `Acme` and `acme` are one tenant.',
  },
  kind: { type: 'string', enum: [...ROOM_KINDS], description: 'The room kind.' },
  slug: {
    type: 'string',
    maxLength: 2 * SLUG_MAX_LENGTH + 1,
    pattern: `^${SLUG_PATTERN.source.slice(1, -1)}(?:~${SLUG_PATTERN.source.slice(1, -1)})?$`,
    description: "The room's slug; a DM's is its two users' slugs, sorted, joined by \"~\" (e.g. `ann~bob`).",
  },
  userSlug: { ...SLUG_JSON, description: "The member's platform slug." },
  user: {
    type: 'string',
    maxLength: 255,
    description: "A join request's user: their platform slug, or the Matrix id (`@…`, URL-encoded) of a user who is not one of the tenant's.",
  },
  workflowId: {
    type: 'string',
    description:
      'A workflow id this API answered with, e.g. `user:acme:alice`, `room:acme:event:summer-meetup`, `msg:acme:alice:<txnId>`.',
  },
  txnId: { type: 'string', minLength: 1, maxLength: 255, description: "The homeserver's transaction id." },
  eventId: { type: 'string', maxLength: 255, pattern: String.raw`^\$\S{1,254}$`, description: 'A Matrix event id (`$…`) of the room.' },
  userId: { type: 'string', description: 'A Matrix user id in the application service namespace.' },
  alias: { type: 'string', description: 'A Matrix room alias in the application service namespace.' },
  asset: { type: 'string', description: 'A file of the docs page.' },
  server: { type: 'string', maxLength: 261, description: 'The server name of an `mxc://` URI.' },
  mediaId: { type: 'string', maxLength: 255, pattern: '^[A-Za-z0-9_-]+$', description: 'The media id of an `mxc://` URI.' },
};
