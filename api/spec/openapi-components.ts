/**
 * The shapes of the API's answers, for the OpenAPI spec (requests are described by the routes'
 * own schemas, api/spec/schema.ts). Mirrors vocabulary/contract.ts; client/types.ts is checked
 * against the types generated from these.
 */
import { HIERARCHY, SPACE_STATE, SPACE_STATE_OPTIONAL } from './openapi-spaces.js';
import { ROOM_KINDS } from '../../vocabulary/ids.js';
import { ERROR_STATUS } from '../errors.js';
import { EVENT_TIME_STATE } from './openapi-event-time.js';
import type { JsonSchema } from './schema.js';
import { bool, int, nullable, obj, str } from './json-schema.js';
import { ref } from './operation.js';
import { ROOM_LIST } from './openapi-room-list.js';
import { JOIN_REQUEST_SCHEMAS } from './openapi-join-requests.js';
import { SEARCH_COMPONENTS } from '../search/schema.js';
const strings: JsonSchema = { type: 'array', items: str };

const WORKFLOW_STATUSES = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT', 'PAUSED', 'UNKNOWN', 'UNSPECIFIED'];
const lastError = nullable(
  obj({ type: str, message: str }, 'Why the latest request failed; cleared by the next success.'),
);
const settingsProps = { name: str, topic: str, visibility: { type: 'string', enum: ['public', 'private'] }, encrypted: bool, prune: bool, knock: bool };
const settings = obj(settingsProps, undefined, Object.keys(settingsProps));
const completed = { status: { type: 'string', const: 'completed' }, workflowId: str, operation: str };
const running = { status: { type: 'string', const: 'running' }, workflowId: str, operation: str };
const changeResult = {
  roomId: str,
  alias: str,
  slug: { ...str, description: "The entity's slug now (it differs from the request's after a rename)." },
  actions: { ...strings, description: 'What this change did on the homeserver; empty when nothing needed doing.' },
};
/** What a complete member list changed (`actions` of its answer: room-level, and power-level entries written). */
const listOutcome = obj({
  added: strings,
  removed: strings,
  roleChanged: { type: 'array', items: obj({ userSlug: str, from: str, to: str }) },
  unchanged: { ...int, description: 'Listed members already there with their role.' },
  failed: { type: 'array', items: obj({ userSlug: str, type: str, message: str }), description: 'Members the homeserver work failed for; repeating the list tries them again.' },
});
const roomState = {
  tenant: str,
  kind: { type: 'string', enum: [...ROOM_KINDS] },
  slug: { ...str, description: "The entity's current slug." },
  slugs: { ...strings, description: 'Every slug the entity has had, in the order it took them (once renamed).' },
  aliasRemovalAt: {
    ...nullable(int),
    description: 'When the next old alias of a renamed entity comes off the homeserver (epoch ms).',
  },
  roomId: nullable(str),
  alias: nullable(str),
  settings: ref('RoomSettings'),
  members: { type: 'object', additionalProperties: str, description: 'Desired members: user slug → role.' },
  archived: bool,
  requests: { type: 'array', items: ref('JoinRequest'), description: 'Join requests (knocks), the most recent first (at most 100).' },
  time: EVENT_TIME_STATE,
  changesApplied: int,
  pendingChanges: int,
  lastError,
  ...SPACE_STATE,
};
/** Absent from the state of a room never renamed (and of runs from before renames), never knocked on, with no event time, and before spaces. */
const ROOM_OPTIONAL = ['slugs', 'aliasRemovalAt', 'requests', 'time', ...SPACE_STATE_OPTIONAL];
const userState = {
  tenant: str,
  slug: str,
  userId: nullable(str),
  displayName: nullable(str),
  provisioned: bool,
  requestsApplied: int,
  pendingRequests: int,
  lastError,
};
const outcomeKinds = ['created', 'displayNameChanged', 'reactivated', 'unchanged', 'failed'];
const counts = obj(Object.fromEntries(outcomeKinds.map((k) => [k, int])), 'How many users had each outcome.');
const usersBatch = {
  tenant: str,
  batchId: { ...str, description: 'The batch id: the workflow is `users-batch:{tenant}:{batchId}`.' },
  total: int,
  counts,
  users: {
    type: 'array',
    description: "Every user's outcome, in the order of the request.",
    items: obj(
      {
        slug: str,
        userId: str,
        outcome: { type: 'string', enum: outcomeKinds },
        error: obj({ type: str, message: str }, '`failed`: why (a failure type and its message).'),
      },
      undefined,
      ['error'],
    ),
  },
};
const binding = {
  adopted: { ...bool, description: 'Bound to an account that existed before (never created, renamed or deactivated).' },
  canActAs: {
    ...bool,
    description:
      'The service acts as the account (joins, sends); false: it invites the user, whose own client accepts, and sends as them are refused (`OM_USER_NOT_MANAGED`).',
  },
};
const check: JsonSchema = { type: 'string', pattern: '^(ok|error: .*)$', description: '`ok`, or `error: <why>`.' };
export const COMPONENT_SCHEMAS: Record<string, JsonSchema> = {
  Error: obj(
    {
      errcode: { type: 'string', enum: Object.keys(ERROR_STATUS) },
      error: { type: 'string', description: 'What is wrong.' },
      newSlug: {
        type: 'string',
        description:
          '`OM_ROOM_RENAMED`: the slug the room has now; `OM_USER_RENAMED`: the slug the user has now. Send the request again with it.',
      },
    },
    'A Matrix-style error; the codes and their statuses are the table in api/errors.ts.',
    ['newSlug'],
  ),
  Empty: { type: 'object', additionalProperties: false },
  Running: obj(running, 'The workflow has not finished within `API_WAIT_MS`: poll `operation`.'),
  UserRunning: obj(
    { ...running, userId: str, ...binding },
    'Still provisioning; the Matrix user id is already known.',
    ['adopted', 'canActAs'],
  ),
  ProvisionedUser: obj(
    {
      ...completed,
      userId: str,
      displayName: str,
      created: bool,
      displayNameChanged: bool,
      tokenIssued: bool,
      ...binding,
    },
    'What this request changed on the homeserver.',
    ['adopted', 'canActAs'],
  ),
  RenamedUser: obj(
    {
      slug: str,
      previousSlug: str,
      userId: { ...str, description: 'The Matrix account, the same as before.' },
      renamed: { ...bool, description: 'False: it was renamed so already (a repeat).' },
      rooms: { ...strings, description: 'The rooms (`kind/slug`) whose desired members followed.' },
    },
    'The user under their new slug.',
  ),
  UsersBatchResult: obj({ ...completed, ...usersBatch }, 'Every user of the batch, provisioned or failed.'),
  UsersBatchRunning: obj({ ...running, batchId: str, total: int }, 'Still provisioning: poll `operation`.'),
  UsersBatchOutcome: obj(usersBatch, "A users batch's result."),
  UsersBatchProgress: obj(
    { tenant: str, batchId: str, total: int, done: { ...int, description: 'Users done so far.' }, counts },
    'Where a running users batch stands.',
  ),
  RoomChangeResult: obj({ ...completed, ...changeResult }, undefined, ['slug']),
  MemberListResult: obj({ ...completed, ...changeResult, members: listOutcome }, 'The members are now the list.', ['slug']),
  RoomSettings: settings,
  ...JOIN_REQUEST_SCHEMAS,
  RoomView: obj(
    {
      ...roomState,
      workflowStatus: { type: 'string', enum: WORKFLOW_STATUSES },
      hierarchy: HIERARCHY,
      memberships: {
        type: 'object',
        additionalProperties: { type: 'string', enum: ['join', 'invite', 'leave', 'ban', 'knock', 'none'] },
        description:
          "Each desired member's membership on the homeserver now: `invite` until their own client accepts (an adopted account the service cannot act as), `none` without one. Left out when the homeserver does not answer.",
      },
    },
    undefined,
    [...ROOM_OPTIONAL, 'memberships', 'hierarchy'],
  ),
  RoomState: obj(roomState, undefined, ROOM_OPTIONAL),
  UserState: obj(userState),
  ReconcileResult: obj({
    tenant: str,
    rooms: int,
    fixes: { type: 'array', items: obj({ room: str, actions: strings }) },
    failures: { type: 'array', items: obj({ room: str, error: str }) },
  }),
  SendMessageResult: obj({ eventId: str, roomId: str, userSlug: str, clientTxnId: str }),
  Operation: obj(
    {
      workflowId: str,
      runId: str,
      kind: { type: 'string', enum: ['user', 'user-auth', 'users-batch', 'room', 'reconcile', 'msg'] },
      workflowStatus: { type: 'string', enum: WORKFLOW_STATUSES },
      status: { type: 'string', enum: ['running', 'completed', 'failed'] },
      state: {
        anyOf: [ref('UserState'), ref('RoomState'), ref('UsersBatchProgress')],
        description: "The entity's state (user and room workflows), or a running users batch's progress.",
      },
      result: {
        anyOf: [ref('ReconcileResult'), ref('SendMessageResult'), ref('UsersBatchOutcome')],
        description: "A finished run's result: a reconciliation's, a message send's, or a users batch's.",
      },
      failure: { type: 'string', description: 'Why the workflow failed, when it did.' },
    },
    undefined,
    // A message send the API finished itself has no run: its outbox row answers (decision 0036).
    ['runId', 'workflowStatus', 'state', 'result', 'failure'],
  ),
  Health: obj({ status: { type: 'string', const: 'ok' } }),
  Readiness: obj({
    status: { type: 'string', enum: ['ready', 'unready'] },
    checks: { type: 'object', additionalProperties: check },
  }),
  HistoryPage: obj({
    roomId: str,
    events: { type: 'array', items: { type: 'object' }, description: 'Matrix client events, newest first.' },
    next: {
      ...nullable(str),
      description: 'Pass as `before` for the next (older) page; null at the start of the room.',
    },
  }),
  RoomList: ROOM_LIST,
  MessageSent: obj({ ...running, status: { type: 'string', const: 'sent' }, txnId: str, roomId: str, eventId: str }),
  MessageQueued: obj({ ...running, status: { type: 'string', const: 'queued' }, txnId: str, roomId: str }),
  MessageDeleted: obj({ roomId: str, eventId: str, redactionId: { ...str, description: 'The redaction event.' },
    redactedBy: { ...str, description: "A moderator's removal (`actorSlug`): whose redaction it is, theirs or the bot's." } }, undefined, ['redactedBy']),
  ReactionAdded: obj({ roomId: str, eventId: str, key: str, reactionId: { ...str, description: 'The `m.reaction` event.' } }),
  ReactionRemoved: obj({ roomId: str, eventId: str, key: str, reactionIds: { type: 'array', items: str } }),
  CodecPayload: obj({ metadata: { type: 'object', additionalProperties: str }, data: str }, 'Base64 fields.', [
    'metadata',
    'data',
  ]),
  CodecPayloads: obj({ payloads: { type: 'array', items: ref('CodecPayload') } }),
  ...SEARCH_COMPONENTS,
};
