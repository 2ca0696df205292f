-- The audit trail (issue #21, decision 0060): every change the service made on the homeserver on
-- behalf of the platform — who asked (the service token's subject, the request id), what (the
-- operation, its room and user, the change in short: never a message body or a display name), when,
-- and the outcome. Written where the outcome is known (adapters/store/audit.ts, recordAudit), kept
-- AUDIT_RETENTION_DAYS, then deleted by the worker's audit sweeper.
CREATE TABLE audit_log (
  id              bigserial PRIMARY KEY,
  -- Set by writers that may run twice (a retried activity): the second write is ignored.
  idempotency_key text UNIQUE,
  tenant          text NOT NULL,
  at              timestamptz NOT NULL DEFAULT now(),
  -- The service token's `sub`, `user:{slug}` for a user JWT, or `service:{what}` for the service's own changes.
  subject         text,
  request_id      text,
  operation       text NOT NULL,
  -- The room entity (its first slug, decision 0031) and its Matrix room, when the change concerns one.
  room_kind       text,
  room_slug       text,
  room_id         text,
  -- The platform user the change concerns (a keyed hash once the user is forgotten).
  user_slug       text,
  detail          text,
  actions         text[] NOT NULL DEFAULT '{}',
  outcome         text NOT NULL CHECK (outcome IN ('done', 'failed')),
  error_type      text,
  -- forgetUserInAudit replaced the user's slug and Matrix id by a keyed hash.
  pseudonymized   boolean NOT NULL DEFAULT false
);

CREATE INDEX audit_log_room ON audit_log (tenant, room_kind, room_slug, id);
CREATE INDEX audit_log_user ON audit_log (tenant, user_slug, id);
CREATE INDEX audit_log_tenant ON audit_log (tenant, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- A message sent through the outbox for the platform (a service JWT): settling the row (sent or
-- failed) records its audit entry in the same statement (adapters/store/outbox.ts). A user's own
-- send (a user JWT, the socket) is not audited.
ALTER TABLE message_outbox ADD COLUMN audit boolean NOT NULL DEFAULT false;
ALTER TABLE message_outbox ADD COLUMN audit_subject text;
