-- The realtime relay (api/relay/): every event Synapse pushes to the application service, in the
-- order it was acknowledged, so any API instance can fan it out and a client can resume from the
-- last sequence it saw.

-- Appservice transactions already stored: Synapse retries an unacknowledged transaction with the
-- same id, which is then acknowledged without storing its events twice.
CREATE TABLE appservice_transactions (
  txn_id      text PRIMARY KEY,
  events      integer NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appservice_transactions_received ON appservice_transactions (received_at);

-- One row: the last sequence handed out and the last one pruned. A writer locks this row for its
-- whole transaction, so sequences become visible in order and without gaps: a reader that has seen
-- sequence N has seen every sequence below N. pruned_through is raised before rows are deleted.
CREATE TABLE relay_log_head (
  id             boolean PRIMARY KEY DEFAULT true CHECK (id),
  last_seq       bigint NOT NULL DEFAULT 0,
  pruned_through bigint NOT NULL DEFAULT 0
);
INSERT INTO relay_log_head DEFAULT VALUES;

-- The last per-room sequence handed out (never pruned, so room sequences never restart).
CREATE TABLE relay_rooms (
  room_id  text PRIMARY KEY,
  last_seq bigint NOT NULL
);

CREATE TABLE relay_events (
  seq         bigint PRIMARY KEY,
  room_id     text NOT NULL,
  room_seq    bigint NOT NULL,
  -- Null for ephemeral events (typing, receipts), which have no id.
  event_id    text,
  ephemeral   boolean NOT NULL,
  type        text NOT NULL,
  sender      text,
  state_key   text,
  event       jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (room_id, room_seq)
);
CREATE UNIQUE INDEX relay_events_event_id ON relay_events (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX relay_events_room_seq ON relay_events (room_id, seq);
CREATE INDEX relay_events_received ON relay_events (received_at);

-- Membership changes (m.room.member) in log order: who was joined where at any sequence. Sequence
-- 0 is a baseline read from the homeserver for a user the log has no history of in that room.
CREATE TABLE relay_memberships (
  user_id    text NOT NULL,
  room_id    text NOT NULL,
  seq        bigint NOT NULL,
  membership text NOT NULL,
  PRIMARY KEY (user_id, room_id, seq)
);
