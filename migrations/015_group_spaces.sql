-- Group spaces and group bans (issues #20 and #21, decision 0051).

-- A group's Matrix space (beside its chat room), and an event's group: the group's entity slug
-- (its first slug, decision 0031), whose space the event's room is a child of.
ALTER TABLE rooms ADD COLUMN space_id text UNIQUE;
ALTER TABLE rooms ADD COLUMN group_slug text;
CREATE INDEX rooms_group_slug ON rooms (tenant, group_slug) WHERE group_slug IS NOT NULL;

-- Who may join a private event room of a group, per tenant: 'group-members' (join rule
-- restricted to the group's space) or 'invite'. No row: 'invite'.
CREATE TABLE tenant_space_settings (
  tenant      text PRIMARY KEY REFERENCES tenants (id),
  event_rooms text NOT NULL CHECK (event_rooms IN ('group-members', 'invite')),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Users banned from a group (its space, its room and its events' rooms, also those created later).
-- An unban keeps the row with lifted_at, so rooms that still hold the ban are unbanned too.
CREATE TABLE group_bans (
  tenant     text NOT NULL REFERENCES tenants (id),
  group_slug text NOT NULL,
  user_slug  text NOT NULL,
  reason     text,
  banned_at  timestamptz NOT NULL DEFAULT now(),
  lifted_at  timestamptz,
  PRIMARY KEY (tenant, group_slug, user_slug)
);
