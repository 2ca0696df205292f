-- Tenants are created on first use; every row of every table belongs to one.
CREATE TABLE tenants (
  id         text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One Matrix user per (tenant, platform user slug). The access token is stored only encrypted
-- (AES-256-GCM, see lib/token-cipher.ts) together with the id of the key that sealed it.
CREATE TABLE matrix_users (
  tenant           text NOT NULL REFERENCES tenants (id),
  slug             text NOT NULL,
  user_id          text NOT NULL UNIQUE,
  display_name     text,
  token_ciphertext bytea,
  token_key_id     text,
  token_issued_at  timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, slug),
  CHECK ((token_ciphertext IS NULL) = (token_key_id IS NULL))
);
