/**
 * Re-encrypts every stored access token under TOKEN_ENCRYPTION_ACTIVE_KEY. Procedure (no downtime):
 *   1. add the new key to TOKEN_ENCRYPTION_KEYS everywhere (old key still listed), new key active;
 *   2. `npm run rotate-keys`;
 *   3. remove the old key from TOKEN_ENCRYPTION_KEYS.
 */
import { createDb } from '../adapters/store/db.js';
import { rotateTokenKeys } from '../adapters/store/keys.js';
import { ConfigError, loadConfig } from '../lib/config.js';
import { TokenCipher } from '../lib/token-cipher.js';

try {
  const config = loadConfig();
  const db = createDb(config.databaseUrl, 2);
  try {
    const report = await rotateTokenKeys(db, new TokenCipher(config.tokens.keys, config.tokens.activeKeyId));
    console.log(JSON.stringify(report));
  } finally {
    await db.end();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `rotate-keys failed: ${(err as Error).message}`);
  process.exit(2);
}
