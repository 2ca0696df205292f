-- Room slugs are attributes of an entity, not its identity (decision 0031). An entity is known by
-- its first slug (`entity`: the slug in its workflow id and its key in rooms and room_members);
-- this table maps every slug it has had to it. The API reads it to route a request (an old slug
-- answers 409 OM_ROOM_RENAMED with the current one) and claims a slug here before a new entity's
-- workflow starts, so a rename and a creation can never both take the same slug.
CREATE TABLE room_slugs (
  tenant           text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('event', 'group', 'dm')),
  slug             text NOT NULL,
  entity           text NOT NULL,
  -- When the entity took this slug first: the order of its slugs.
  claimed_at       timestamptz NOT NULL DEFAULT now(),
  -- When the entity left this slug; null for its current slug. Its alias is kept as an alternative
  -- alias until renamed_at + ROOM_OLD_ALIAS_KEEP_SECONDS, then removed from the homeserver.
  renamed_at       timestamptz,
  alias_removed_at timestamptz,
  PRIMARY KEY (tenant, kind, slug)
);
-- Exactly one current slug per entity.
CREATE UNIQUE INDEX room_slugs_current ON room_slugs (tenant, kind, entity) WHERE renamed_at IS NULL;

-- Every room so far has the one slug it was created with.
INSERT INTO room_slugs (tenant, kind, slug, entity, claimed_at)
SELECT tenant, kind, slug, slug, created_at FROM rooms;
