-- An event's time and its room's durable timers (decision 0053). The room workflow owns both: it
-- writes a row when the event's time changes and whenever a timer fires, and a new run of the
-- workflow (after it completed, was reset or terminated) plans its timers from this row.
CREATE TABLE room_event_times (
  tenant     text NOT NULL,
  kind       text NOT NULL,
  slug       text NOT NULL,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  time_zone  text NOT NULL,
  cancelled  boolean NOT NULL DEFAULT false,
  -- The room is read-only for members now (the readOnly timer fired, not lifted since).
  read_only  boolean NOT NULL DEFAULT false,
  -- The tenant's policy when the time was last set: {reminderMinutes, readOnlyAfterMinutes, ...}.
  policy     jsonb NOT NULL,
  -- Timer name → {dueAt (epoch ms), done, skipped?}: `done` is what makes each fire once.
  timers     jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, kind, slug),
  FOREIGN KEY (tenant, kind, slug) REFERENCES rooms (tenant, kind, slug) ON DELETE CASCADE
);

-- What a tenant wants of its events' rooms (PUT /v1/tenants/{tenant}/event-timers); without a row,
-- the defaults of vocabulary/event-time.ts.
CREATE TABLE tenant_event_policies (
  tenant     text PRIMARY KEY REFERENCES tenants (id),
  policy     jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
