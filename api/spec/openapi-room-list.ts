/** The room list (`GET …/me/rooms`, the socket's `hello`): its shape for the OpenAPI spec (decision 0045). */
import { ROOM_KINDS } from '../../vocabulary/ids.js';
import type { JsonSchema } from './schema.js';
import { bool, int, nullable, obj, str } from './json-schema.js';

export const ROOM_LIST: JsonSchema = obj({
  rooms: {
    type: 'array',
    description: 'The most recently active first.',
    items: obj({
      roomId: str,
      kind: { type: 'string', enum: [...ROOM_KINDS] },
      slug: str,
      name: nullable(str),
      unread: {
        ...nullable(int),
        description:
          "The homeserver's unread notification count for the user; in the appservice identity mode, the messages after their read receipt (at most 50).",
      },
      highlights: { ...nullable(int), description: 'Of those, the ones that mention the user.' },
      unreadCapped: {
        ...nullable(bool),
        description: 'More are unread than `unread` says (appservice mode: at least 50).',
      },
      lastMessage: nullable(
        obj(
          { eventId: str, sender: str, ts: int, encrypted: bool, msgtype: str, body: str },
          'An encrypted one (`encrypted: true`) has no body.',
          ['msgtype', 'body'],
        ),
      ),
    }),
  },
});
