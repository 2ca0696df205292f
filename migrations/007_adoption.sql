-- Adoption and renames (issue #17).

-- A platform user bound to a Matrix account that existed before the service (`matrixUserId`): the
-- service never creates, renames or deactivates it, and acts as it only where its identity mode can.
ALTER TABLE matrix_users ADD COLUMN adopted boolean NOT NULL DEFAULT false;

-- A renamed platform user keeps their row (account and token) under the new slug; the old slug
-- points to the new one, so requests that still use it are told where it went, and work accepted
-- under it before the rename still finds the same account. Kept flat: every old slug names the
-- user's current slug.
CREATE TABLE user_renames (
  tenant     text NOT NULL REFERENCES tenants (id),
  old_slug   text NOT NULL,
  new_slug   text NOT NULL,
  renamed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, old_slug)
);
CREATE INDEX user_renames_new_slug ON user_renames (tenant, new_slug);

-- A room the service took over instead of creating it. `prune`: reconciliation also removes people
-- who are not desired members (otherwise only the tenant's own managed accounts are drift).
ALTER TABLE rooms ADD COLUMN adopted boolean NOT NULL DEFAULT false;
ALTER TABLE rooms ADD COLUMN prune boolean NOT NULL DEFAULT false;
