-- Members muted for a time (decision 0058): while `until` is ahead, the room's power levels give
-- the member a level below what sending a message needs. The room workflow writes and ends them
-- (its durable timer); every power-levels write (the room workflow's, reconciliation's) reads them.
CREATE TABLE room_mutes (
  tenant      text NOT NULL,
  kind        text NOT NULL,
  slug        text NOT NULL,
  user_slug   text NOT NULL,
  until       timestamptz NOT NULL,
  actor_slug  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, kind, slug, user_slug),
  FOREIGN KEY (tenant, kind, slug) REFERENCES rooms (tenant, kind, slug) ON DELETE CASCADE
);
