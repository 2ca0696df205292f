-- Each stored token has a generation, bumped whenever a new token replaces it. A renewal names the
-- generation that failed, so concurrent and repeated renewals of the same dead token re-login once.
ALTER TABLE matrix_users ADD COLUMN token_generation integer NOT NULL DEFAULT 0;
UPDATE matrix_users SET token_generation = 1 WHERE token_ciphertext IS NOT NULL;
