/**
 * Mints a development service JWT from the environment (the local stack's .stack/<name>/stack.env):
 *   npm run dev-token -- [--tenants acme,other|*] [--ttl 3600]
 */
import { SignJWT } from 'jose';
import { loadConfig } from '../lib/config.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const config = loadConfig();
if (!config.serviceJwt.secret) {
  console.error('dev-token: needs SERVICE_JWT_SECRET (a JWKS deployment mints tokens with its own key)');
  process.exit(2);
}
const tenants = arg('tenants', '*').split(',');
const ttl = Number(arg('ttl', '3600'));
const token = await new SignJWT({ tenants })
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuer(config.serviceJwt.issuer)
  .setAudience(config.serviceJwt.audience)
  .setSubject('dev')
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
  .sign(config.serviceJwt.secret);
process.stdout.write(token + '\n');
