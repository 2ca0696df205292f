/** The offboarding routes' operations and answers (decision 0056); the handlers are in offboard.ts. */
import { operation, ref } from '../spec/operation.js';
import { flag, object, optional, text, type JsonSchema } from '../spec/schema.js';

export const OFFBOARD_REASON_MAX = 500;

export const OFFBOARD_BODY = object({
  erase: flag(
    'Also erase: after `OFFBOARD_ERASE_GRACE_SECONDS` the homeserver erases the account (profile gone, messages hidden from users who join later) and the service deletes what it keeps about the user.',
  ),
  reason: optional(
    text(OFFBOARD_REASON_MAX, 'Why, for operators: kept only in the workflow\'s memo (encrypted), never in the database.'),
  ),
});

const str: JsonSchema = { type: 'string' };
const int: JsonSchema = { type: 'integer', minimum: 0 };
const PHASES = ['starting', 'locking', 'removing', 'deactivating', 'grace', 'erasing', 'done', 'restoring', 'cancelled'];

export const OFFBOARD_SCHEMAS: Record<string, JsonSchema> = {
  Offboarding: {
    type: 'object',
    description: "A user's offboarding as its workflow reports it.",
    properties: {
      workflowId: str,
      offboardingId: { ...str, description: 'Opaque: the key of the offboarding record, which names no one.' },
      phase: { type: 'string', enum: PHASES },
      erase: { type: 'boolean' },
      scope: {
        anyOf: [{ type: 'string', enum: ['full', 'rooms'] }, { type: 'null' }],
        description: '`rooms`: an adopted account, only removed from the rooms (`OFFBOARD_ADOPTED_ACCOUNTS`); null before it is known.',
      },
      roomsRemoved: int,
      roomsFailed: int,
      eraseDueAt: { anyOf: [{ ...str, format: 'date-time' }, { type: 'null' }], description: 'While in `grace`.' },
      status: { ...str, description: 'The workflow status (RUNNING, COMPLETED, FAILED, …).' },
    },
    required: ['workflowId', 'offboardingId', 'phase', 'erase', 'scope', 'roomsRemoved', 'roomsFailed', 'eraseDueAt', 'status'],
  },
};

const PATH = '/v1/tenants/:tenant/users/:userSlug/offboard' as const;

export const offboardOps = {
  start: operation({
    method: 'post',
    path: PATH,
    operationId: 'offboardUser',
    summary: 'Offboard a platform user: lock, remove from every room, deactivate; optionally erase after a grace period',
    description: [
      'Starts `offboard:{tenant}:{slug}` and answers at once (202); follow it with GET. A repeat while it runs answers',
      'the running one (its `erase` holds). From then on the user is not provisioned again (`409 OM_USER_OFFBOARDED`),',
      'unless the offboarding is cancelled. Rooms are left through their workflows, so reconciliation agrees. An',
      'adopted account is only removed from the rooms unless `OFFBOARD_ADOPTED_ACCOUNTS=full`.',
    ].join(' '),
    tags: ['users'],
    security: 'service',
    body: { schema: OFFBOARD_BODY.json },
    responses: { 202: { description: 'Started, or already running.', json: ref('Offboarding') } },
    errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_USER_RENAMED', 'OM_UNAVAILABLE'],
  }),
  get: operation({
    method: 'get',
    path: PATH,
    operationId: 'getOffboarding',
    summary: "A user's offboarding: its phase, rooms, and when the erasure is due",
    tags: ['users'],
    security: 'service',
    responses: { 200: { description: 'The offboarding.', json: ref('Offboarding') } },
    errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_UNAVAILABLE'],
  }),
  cancel: operation({
    method: 'delete',
    path: PATH,
    operationId: 'cancelOffboarding',
    summary: 'Cancel an offboarding inside its grace period: the account is restored (same Matrix id)',
    description: [
      'Only an erasure in its grace period (`phase: grace`) can be cancelled: the account is unlocked and',
      'reactivated, keeps its Matrix id, and can be used again; the rooms it was removed from are not rejoined (the',
      'platform adds the user back where it wants them). Anything else is `409 OM_OFFBOARD_NOT_CANCELLABLE`.',
    ].join(' '),
    tags: ['users'],
    security: 'service',
    responses: {
      200: { description: 'Cancelled: the account is restored.', json: ref('Offboarding') },
      202: { description: 'Cancelled; the restoration is still under way (`phase: restoring`).', json: ref('Offboarding') },
    },
    errors: ['M_INVALID_PARAM', 'M_NOT_FOUND', 'OM_OFFBOARD_NOT_CANCELLABLE', 'OM_UNAVAILABLE'],
  }),
};

export const offboardOperations = [offboardOps.start, offboardOps.get, offboardOps.cancel];
