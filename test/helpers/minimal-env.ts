/** The smallest environment lib/config.ts accepts: the required variables with throwaway values. */
const key = Buffer.alloc(32, 7).toString('base64');

export const MINIMAL_ENV: Readonly<Record<string, string>> = {
  DATABASE_URL: 'postgres://u:p@127.0.0.1/db',
  MATRIX_ADMIN_PASSWORD: 'pw',
  MATRIX_AS_TOKEN: 'as',
  MATRIX_HS_TOKEN: 'hs',
  TOKEN_ENCRYPTION_KEYS: `k1:${key}`,
  PAYLOAD_ENCRYPTION_KEYS: `p1:${key}`,
  SERVICE_JWT_SECRET: 'x'.repeat(32),
};
