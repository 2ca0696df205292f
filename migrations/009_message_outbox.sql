-- Accepted message sends (decision 0036): the API records a message here before it answers the
-- sender, sends it to the homeserver itself and records the event id; what stays pending (the
-- PUT failed, timed out, or the API died in between) is finished by the send workflow, started by
-- the API or by the worker's sweeper. One row per client transaction id of a user (decision 0026).
CREATE TABLE message_outbox (
  tenant      text NOT NULL,
  user_slug   text NOT NULL,
  txn_id      text NOT NULL,
  room_id     text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('event', 'group', 'dm')),
  slug        text NOT NULL,
  msgtype     text NOT NULL,
  -- The text while it may still have to be sent; cleared once the homeserver has the event or
  -- refused it for good (the room keeps the message, the outbox need not).
  body        text,
  user_id     text,
  request_id  text,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  event_id    text,
  errcode     text,
  error       text,
  accepted_at timestamptz NOT NULL DEFAULT now(),
  -- Accepted (again, after a failure) or finished; the sweeper takes rows pending since long enough.
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, user_slug, txn_id),
  CHECK (status <> 'sent' OR event_id IS NOT NULL)
);
CREATE INDEX message_outbox_pending ON message_outbox (updated_at) WHERE status = 'pending';
CREATE INDEX message_outbox_finished ON message_outbox (updated_at) WHERE status <> 'pending';
