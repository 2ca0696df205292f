/** Join requests (knocks, decision 0055): their shape for the OpenAPI spec. */
import { JOIN_REQUEST_STATES, JOIN_REQUESTS_SHOWN } from '../../vocabulary/join-requests.js';
import { ref } from './operation.js';
import type { JsonSchema } from './schema.js';
import { nullable, obj, str } from './json-schema.js';

export const JOIN_REQUEST_SCHEMAS: Record<string, JsonSchema> = {
  JoinRequest: obj(
    {
      userId: { ...str, description: 'The knocking Matrix user.' },
      userSlug: {
        ...nullable(str),
        description: "Their platform slug when they are one of the tenant's users, else null.",
      },
      state: { type: 'string', enum: [...JOIN_REQUEST_STATES] },
      reason: { ...nullable(str), description: "The knocker's own reason." },
      requestedAt: str,
      decidedBy: {
        ...nullable(str),
        description: '`platform` (or the `decidedBy` given), or the Matrix id of whoever decided from a Matrix client.',
      },
      decidedAt: nullable(str),
      decisionReason: nullable(str),
    },
    'A request to join the room.',
  ),
  JoinRequestList: obj(
    { requests: { type: 'array', items: ref('JoinRequest') } },
    `The room's join requests, the most recent first (at most ${JOIN_REQUESTS_SHOWN}).`,
  ),
};
