-- One Matrix room per platform entity (event, group, or a DM between two users).
CREATE TABLE rooms (
  tenant      text NOT NULL REFERENCES tenants (id),
  kind        text NOT NULL CHECK (kind IN ('event', 'group', 'dm')),
  slug        text NOT NULL,
  alias       text NOT NULL UNIQUE,
  room_id     text UNIQUE,
  name        text,
  topic       text,
  visibility  text NOT NULL DEFAULT 'private' CHECK (visibility IN ('public', 'private')),
  encrypted   boolean NOT NULL DEFAULT false,
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, kind, slug)
);

-- Desired membership: who should be in the room, with which platform role. The room workflow
-- writes it; reconciliation compares it with the room's real state on the homeserver.
CREATE TABLE room_members (
  tenant     text NOT NULL,
  kind       text NOT NULL,
  slug       text NOT NULL,
  user_slug  text NOT NULL,
  role       text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, kind, slug, user_slug),
  FOREIGN KEY (tenant, kind, slug) REFERENCES rooms (tenant, kind, slug) ON DELETE CASCADE
);

-- What each reconciliation run found and fixed, for operators.
CREATE TABLE reconcile_runs (
  id          bigserial PRIMARY KEY,
  tenant      text NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now(),
  rooms       integer NOT NULL,
  fixes       jsonb NOT NULL
);
CREATE INDEX reconcile_runs_tenant ON reconcile_runs (tenant, finished_at DESC);
