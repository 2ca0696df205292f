-- Join requests (knocks, decision 0055). `rooms.knock`: the room's join rule is `knock` (or
-- `knock_restricted` where it is restricted too), so Matrix users can ask to join. A knock pushed
-- by the homeserver is recorded here in the event log's own transaction (adapters/store/event-append.ts);
-- the platform's decision through the API is claimed here by the room workflow before it invites
-- (approval) or kicks (refusal). One row per room and Matrix user: a knock after a decision starts
-- a new request in the same row.
ALTER TABLE rooms ADD COLUMN knock boolean NOT NULL DEFAULT false;

CREATE TABLE join_requests (
  tenant          text NOT NULL,
  kind            text NOT NULL,
  -- The entity's first slug (as in rooms and room_members).
  slug            text NOT NULL,
  user_id         text NOT NULL,
  room_id         text NOT NULL,
  state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'refused', 'withdrawn')),
  knock_event_id  text NOT NULL,
  -- The knocking user's own words (Matrix `reason`), cut to 500 characters.
  knock_reason    text,
  knocked_at      timestamptz NOT NULL DEFAULT now(),
  -- `platform` (or the slug the API was given), or the Matrix id of whoever decided from a Matrix client.
  decided_by      text,
  decided_at      timestamptz,
  decision_reason text,
  -- The room workflow's id for its claim: an activity retried after its claim committed finds it its own.
  decision_id     text,
  PRIMARY KEY (tenant, kind, slug, user_id),
  FOREIGN KEY (tenant, kind, slug) REFERENCES rooms (tenant, kind, slug) ON DELETE CASCADE
);
CREATE INDEX join_requests_room ON join_requests (room_id, user_id);
