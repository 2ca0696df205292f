-- Offboarding a platform user (issue #21, decision 0056). One row per offboarding: the record of
-- what was done and when, WITHOUT personal data. The user is named only by `subject`, an
-- HMAC-SHA256 of (tenant, Matrix user id) under a key derived from a token encryption key
-- (`subject_key_id`): a plain hash of a Matrix id could be reversed by hashing guessed ids.
-- No slug, Matrix id, display name, reason text or message body is ever written here. The row
-- also holds a user back while it is `running`, `grace` or `done`: provisioning refuses them.
CREATE TABLE offboardings (
  -- Opaque; also the workflow's offboarding id (the workflow id itself carries the slug).
  id             uuid PRIMARY KEY,
  tenant         text NOT NULL,
  subject        text NOT NULL,
  subject_key_id text NOT NULL,
  erase          boolean NOT NULL,
  -- The account existed before the service (adopted, migration 007).
  adopted        boolean NOT NULL,
  -- What was done on the homeserver: 'full' (lock, deactivate, erase) or 'rooms' (removal only).
  scope          text NOT NULL CHECK (scope IN ('full', 'rooms')),
  state          text NOT NULL CHECK (state IN ('running', 'grace', 'done', 'cancelled', 'failed')),
  -- [{"step": "locked", "at": "…", "count"?: n}, …]: steps and counts, never names.
  steps          jsonb NOT NULL DEFAULT '[]',
  requested_at   timestamptz NOT NULL DEFAULT now(),
  erase_due_at   timestamptz,
  finished_at    timestamptz
);
CREATE INDEX offboardings_subject ON offboardings (tenant, subject);
