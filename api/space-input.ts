/** Request fields of group spaces and bans (decision 0051), shared by the room routes and the event intake. */
import { BAN_REASON_MAX, EVENT_ROOM_JOIN } from '../vocabulary/spaces.js';
import { SLUG_JSON, slug } from './spec/fields.js';
import { choice, object, optional, text, type Field } from './spec/schema.js';

/** An event's group by its slug; null takes the event out of its group. */
export const groupSlugField: Field<string | null> = {
  optional: false,
  json: {
    description:
      "Events only: the event's group (its slug). The event's room becomes a child of the group's space, and the group's bans hold in it; `null` takes it out of its group.",
    anyOf: [SLUG_JSON, { type: 'null' }],
  },
  read: (body, name) => (body[name] === null ? null : slug().read(body, name)),
};

/** `PUT …/groups/{slug}/bans/{userSlug}` (an empty body is `{}`). */
export const BAN_BODY = object({
  reason: optional(text(BAN_REASON_MAX, 'Why, shown in the ban event on Matrix (default: "banned from the group").')),
  actorSlug: optional(
    text(100, "The group's moderator acting; their role in the group is checked (decision 0058). Without it, the platform acts on its own authority."),
  ),
});

/** `PUT …/settings/spaces`. */
export const SPACE_SETTINGS_BODY = object({
  eventRooms: choice(
    EVENT_ROOM_JOIN,
    'Who may join a private event room of a group: `group-members` (join rule restricted to members of the group\'s space) or `invite` (invite only, the default).',
  ),
});
