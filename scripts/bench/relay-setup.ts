/**
 * Set-up shared by the relay benchmarks (relay-latency, fanout, durable-send), all untimed: a room
 * with provisioned members through the API, user JWTs for the relay, Matrix access tokens for the
 * direct side, and where the relay's event log says an event arrived.
 */
import { SignJWT } from 'jose';
import pg from 'pg';
import { configuredAdmin } from '../../adapters/matrix/admin.js';
import { enc, matrixRequest } from '../../adapters/matrix/http.js';
import type { Config } from '../../lib/config.js';
import { matrixUserId } from '../../vocabulary/ids.js';
import type { ApiClient } from './clients.js';
import { provisionViaApi } from './provisioning.js';
import { runPool } from './stats.js';

export const memberSlug = (j: number): string => `user${String(j).padStart(4, '0')}`;

/** An event room `slug` of `tenant` with `members` provisioned users (user0000…) joined, through the API. */
export async function roomWithMembers(
  api: ApiClient,
  tenant: string,
  slug: string,
  members: number,
  concurrency: number,
): Promise<string> {
  const pre = await provisionViaApi(api, tenant, members, concurrency);
  if (pre.errors) throw new Error(`${pre.errors} of ${members} users could not be provisioned through the API`);
  const room = await api.change('PUT', `/v1/tenants/${tenant}/rooms/event/${slug}`, { name: `Bench ${slug}` });
  // One room applies its changes one at a time: more in flight only queue (and may outlast the
  // API's accept timeout, a 503 that is safe to repeat).
  const added = await runPool(
    Array.from({ length: members }, (_, j) => j),
    Math.min(concurrency, 4),
    async (j) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await api.change('PUT', `/v1/tenants/${tenant}/rooms/event/${slug}/members/${memberSlug(j)}`, {});
          return;
        } catch (err) {
          if (attempt >= 3 || !String(err).includes('→ 503')) throw err;
        }
      }
    },
  );
  if (added.errors.length)
    throw new Error(`${added.errors.length} memberships failed: ${String(added.errors[0]!.error)}`);
  return String(room.roomId);
}

/** A user JWT for the relay (as the platform backend mints them). */
export function userJwt(config: Config, tenant: string, slug: string): Promise<string> {
  const jwt = new SignJWT({ tenant })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(slug)
    .setAudience(config.userJwt.audience)
    .setIssuedAt()
    .setExpirationTime('6h');
  if (config.userJwt.issuer) jwt.setIssuer(config.userJwt.issuer);
  return jwt.sign(config.userJwt.secret!);
}

export const userIdOf = (config: Config, tenant: string, slug: string): string =>
  matrixUserId(config.matrix.userPrefix, config.matrix.serverName, tenant, slug);

/** Matrix access tokens of the users, each a fresh login of that user (Synapse Admin API). */
export async function matrixTokens(config: Config, userIds: readonly string[]): Promise<string[]> {
  const admin = configuredAdmin(config.matrix, 'BENCH_RELAY');
  const tokens: string[] = [];
  for (const u of userIds) tokens.push(await admin.loginAs(u));
  return tokens;
}

/** The plain Matrix send: PUT /rooms/{id}/send/m.room.message/{txn} with the user's own token. */
export async function matrixSend(
  config: Config,
  token: string,
  roomId: string,
  txnId: string,
  body: string,
): Promise<string> {
  const r = await matrixRequest<{ event_id: string }>(config.matrix.homeserverUrl, {
    method: 'PUT',
    path: `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${enc(txnId)}`,
    token,
    body: { msgtype: 'm.text', body },
    timeoutMs: 120_000,
  });
  return r.event_id;
}

/** When the relay stored each event (relay_events.received_at: the appservice push's transaction), wall-clock ms. */
export async function receivedAt(config: Config, eventIds: readonly string[]): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    const r = await client.query<{ event_id: string; ms: string }>(
      'SELECT event_id, extract(epoch FROM received_at) * 1000 AS ms FROM relay_events WHERE event_id = ANY($1)',
      [[...eventIds]],
    );
    return new Map(r.rows.map((row) => [row.event_id, Number(row.ms)]));
  } finally {
    await client.end();
  }
}
