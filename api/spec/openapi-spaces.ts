/** The room state's and room view's parts of group spaces and bans (decision 0051), for openapi-components.ts. */
import type { JsonSchema } from './schema.js';
import { nullable, obj, str } from './json-schema.js';

const children: JsonSchema = { type: 'array', items: obj({ kind: str, slug: str, roomId: str }) };

/** Fields of the room workflow's state (absent from runs from before spaces). */
export const SPACE_STATE: Record<string, JsonSchema> = {
  group: { ...nullable(str), description: "An event's group (its slug), null for none." },
  space: obj(
    { spaceId: nullable(str), parent: nullable(str), children, joinRule: str },
    "Where the room stands among spaces as its workflow last brought it: a group's space and its children, an event room's parent and join rule.",
    ['joinRule'],
  ),
  bans: { type: 'array', items: str, description: "User slugs banned from the room's group." },
};
export const SPACE_STATE_OPTIONAL = Object.keys(SPACE_STATE);

/** The room view's hierarchy, as PostgreSQL records it now. */
export const HIERARCHY: JsonSchema = obj(
  { group: nullable(str), spaceId: nullable(str), children },
  "The hierarchy as recorded now: a group's space and its event rooms; an event's group and that group's space (its parent). Not for DMs.",
);
