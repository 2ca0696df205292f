/** The shape of a search answer, for the OpenAPI spec (components `SearchPage`, `SearchResult`). */
import type { JsonSchema } from '../spec/schema.js';
import { int, nullable, obj, str } from '../spec/json-schema.js';

export const SEARCH_COMPONENTS: Record<string, JsonSchema> = {
  SearchResult: obj({
    eventId: str,
    roomId: str,
    room: {
      ...nullable(obj({ kind: str, slug: str, name: nullable(str) })),
      description: 'Null for a room the service does not manage.',
    },
    sender: { type: 'string', description: 'Matrix user id.' },
    senderSlug: { ...nullable(str), description: "The tenant's user bound to `sender`, if any." },
    ts: { ...int, description: 'origin_server_ts, milliseconds since the epoch.' },
    time: { type: 'string', format: 'date-time' },
    msgtype: str,
    body: { type: 'string', description: 'Plain text. Render it as text, never as HTML.' },
    rank: { type: 'number', description: "The homeserver's rank: higher is a better match." },
    highlights: {
      type: 'array',
      items: obj({ start: int, end: int }),
      description:
        '[start, end) offsets into `body` (UTF-16 code units, as JavaScript indexes strings) of the matched words, sorted, not overlapping.',
    },
  }),
  SearchPage: obj({
    results: { type: 'array', items: { $ref: '#/components/schemas/SearchResult' }, description: 'Best match first.' },
    highlights: { type: 'array', items: str, description: 'The terms the homeserver matched.' },
    count: { ...int, description: "Matches in the user's rooms as the homeserver counts them (an upper bound)." },
    capped: {
      type: 'boolean',
      description:
        'More matches than the 500 the homeserver ranks: only the best 500 (with a date range or a sender filter, the newest 500) are paged; narrow the search.',
    },
    next: { ...nullable(str), description: 'Pass as `cursor` for the next page; null on the last.' },
  }),
};

export const SEARCH_PAGE: JsonSchema = { $ref: '#/components/schemas/SearchPage' };
