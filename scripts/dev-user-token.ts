/**
 * Mints a development user JWT for the realtime relay (the demo page at /demo/, or any WebSocket
 * client), from the environment (the local stack's .stack/<name>/stack.env):
 *   npm run -s dev-user-token -- --tenant acme --user alice [--ttl 3600]
 */
import { SignJWT } from 'jose';
import { loadConfig } from '../lib/config.js';
import { slugProblem, tenantProblem } from '../vocabulary/ids.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const config = loadConfig();
const tenant = arg('tenant') ?? '';
const user = arg('user') ?? '';
const ttl = Number(arg('ttl') ?? '3600');
const problem = tenantProblem(tenant) ?? slugProblem(user, 'user');
if (problem || !Number.isInteger(ttl) || ttl <= 0) {
  console.error(
    `dev-user-token: ${problem ?? '--ttl must be a positive number of seconds'}\nusage: npm run -s dev-user-token -- --tenant acme --user alice [--ttl 3600]`,
  );
  process.exit(2);
}
if (!config.userJwt.secret) {
  console.error('dev-user-token: needs USER_JWT_SECRET (a JWKS deployment mints tokens with its own key)');
  process.exit(2);
}
const jwt = new SignJWT({ tenant })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(user)
  .setAudience(config.userJwt.audience)
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
if (config.userJwt.issuer) jwt.setIssuer(config.userJwt.issuer);
process.stdout.write((await jwt.sign(config.userJwt.secret)) + '\n');
