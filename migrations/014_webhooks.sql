-- Events back to the platform (decision 0049): one webhook subscription per tenant, and the outbox
-- of its deliveries. Delivery rows are written in the same database transaction as the event log
-- rows they come from (adapters/store/event-append.ts), or by the reconciler's record activity;
-- the webhook workflow of each room delivers them in `seq` order, one at a time.
CREATE TABLE webhook_subscriptions (
  tenant            text PRIMARY KEY,
  url               text NOT NULL,
  -- The shared signing secret, AES-256-GCM under TOKEN_ENCRYPTION_KEYS (lib/token-cipher.ts),
  -- the tenant as associated data; never returned, never logged.
  secret_ciphertext bytea NOT NULL,
  secret_key_id     text NOT NULL,
  event_types       text[] NOT NULL,
  state             text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'stopped')),
  stopped_reason    text,
  stopped_at        timestamptz,
  -- Events not queued because the tenant had WEBHOOK_MAX_PENDING deliveries pending already.
  dropped           bigint NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  seq           bigserial PRIMARY KEY,
  -- Stable: derived from the Matrix event id (or the reconcile run) and the type; the receiver's dedup key.
  id            text NOT NULL UNIQUE,
  tenant        text NOT NULL,
  -- The order key: the Matrix room (or `tenant:` for what concerns no room).
  room_key      text NOT NULL,
  type          text NOT NULL,
  payload       jsonb NOT NULL,
  state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  -- The sweeper has told the room's workflow about this row.
  dispatched    boolean NOT NULL DEFAULT false,
  attempts      integer NOT NULL DEFAULT 0,
  last_status   integer,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  attempted_at  timestamptz,
  finished_at   timestamptz
);
CREATE INDEX webhook_deliveries_room ON webhook_deliveries (tenant, room_key, seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (seq) WHERE state = 'pending' AND NOT dispatched;
CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant, state, seq);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE state <> 'pending';
