/**
 * `GET /v1/tenants/{tenant}/me/search`: full-text search across the rooms the user is in, as the
 * user, through the homeserver's own search (decision 0047): ranked, filtered by room, sender and
 * date range, paged with a cursor, each result with the stretches of its body that matched.
 */
import { Hono, type Context } from 'hono';
import type { BlankSchema } from 'hono/types';
import { identityFor } from '../../adapters/identity/index.js';
import { createUserStore } from '../../adapters/store/users.js';
import { TokenCipher } from '../../lib/token-cipher.js';
import { renewThroughWorkflow } from '../renewing-reads.js';
import { canonicalTenant, tenantProblem } from '../../vocabulary/ids.js';
import type { AppDeps } from '../context.js';
import { ApiError } from '../errors.js';
import { userRateLimit } from '../rate-limit.js';
import { relayActionsFor } from '../relay/actions-for.js';
import { relayAuth, type RelayEnv } from '../relay/user-auth.js';
import { createSearchHomeserver } from '../search/homeserver.js';
import {
  canonicalQuery,
  CURSOR_PATTERN,
  readSearchInput,
  SEARCH_FILTERS_MAX,
  SEARCH_LIMIT_DEFAULT,
  SEARCH_LIMIT_MAX,
  SEARCH_Q_MAX,
  type RoomFilter,
  type SenderFilter,
} from '../search/input.js';
import { highlightRanges, pageOf, searchFingerprint } from '../search/results.js';
import { below, operation, type Operation } from '../spec/operation.js';
import { assertValid } from '../spec/validation.js';
import { createUserDirectory } from '../user-directory.js';
import { sender as actingUser } from './room-access.js';
import { SEARCH_PAGE } from '../search/schema.js';

const PATH = '/v1/tenants/:tenant/me/search';
const str = { type: 'string' } as const;
const search = operation({
  method: 'get',
  path: PATH,
  operationId: 'search',
  summary: 'Full-text search across the rooms the user is in, ranked, as the user',
  description:
    'The homeserver searches as the user (its membership and history-visibility rules apply), best match first. Filters combine (AND); `room` and `sender` may repeat (OR within each). Results carry `highlights`: [start, end) offsets of `body` to mark as text, never as HTML.',
  tags: ['messages'],
  security: 'relay',
  query: [
    {
      name: 'q',
      description: `Words to find (all of them), "a phrase", \`-word\` to exclude, \`or\`; 1–${SEARCH_Q_MAX} characters.`,
      schema: { ...str, minLength: 1, maxLength: SEARCH_Q_MAX },
      required: true,
    },
    {
      name: 'room',
      description: `Only this room: \`kind/slug\` (e.g. \`event/launch\`) or a room id; up to ${SEARCH_FILTERS_MAX}.`,
      schema: { type: 'array', items: str, maxItems: SEARCH_FILTERS_MAX },
    },
    {
      name: 'sender',
      description: `Only messages of this user: a user slug or a Matrix user id; up to ${SEARCH_FILTERS_MAX}.`,
      schema: { type: 'array', items: str, maxItems: SEARCH_FILTERS_MAX },
    },
    { name: 'from', description: 'Sent at or after: ISO 8601 or milliseconds since the epoch.', schema: str },
    { name: 'to', description: 'Sent at or before: ISO 8601 or milliseconds since the epoch.', schema: str },
    {
      name: 'limit',
      description: 'Results per page.',
      schema: { type: 'integer', minimum: 1, maximum: SEARCH_LIMIT_MAX, default: SEARCH_LIMIT_DEFAULT },
    },
    {
      name: 'cursor',
      description: 'The `next` of the previous page.',
      schema: { ...str, pattern: CURSOR_PATTERN.source },
    },
    { name: 'userSlug', description: 'The user to search as (service JWT only).', schema: { ...str, maxLength: 100 } },
  ],
  responses: { 200: { description: 'One page of results.', json: SEARCH_PAGE } },
  errors: [
    'M_INVALID_PARAM',
    'M_LIMIT_EXCEEDED',
    'OM_ROOM_RENAMED',
    'OM_ROOM_ARCHIVED',
    'OM_USER_RENAMED',
    'OM_USER_NOT_MANAGED',
    'OM_UNAVAILABLE',
    'OM_UPSTREAM_FAILED',
  ],
});
export const searchOperations: Operation[] = [search];

/** Where api/app.ts mounts this router. */
export const SEARCH_PREFIX = '/v1/tenants/:tenant/me';

export function searchRoutes(deps: AppDeps) {
  const { actions } = relayActionsFor(deps);
  const directory = createUserDirectory(deps.config, deps.db);
  const cipher = new TokenCipher(deps.config.tokens.keys, deps.config.tokens.activeKeyId);
  // Only actAs is used: in admin mode that reads the user's stored token, never the Admin API.
  const { identity } = identityFor(deps.config, createUserStore(deps.db, cipher));
  // A refused token (admin mode) is renewed by the user's re-auth workflow, as for sends, then the search asked again.
  const searcher = createSearchHomeserver(
    identity,
    deps.config.matrix.homeserverUrl,
    renewThroughWorkflow(deps.temporal, deps.config),
  );
  const auth = relayAuth(deps.config, directory);
  const limited = userRateLimit(deps.config.relay, () => deps.relay?.limits.refused('http_per_user'));

  /** The room filter's room id; the user must be joined to it (never a room they are not in). */
  async function roomIdOf(tenant: string, userId: string, userSlug: string, f: RoomFilter): Promise<string> {
    const named = 'roomId' in f ? f.roomId : `${f.kind}/${f.slug}`;
    const room = await actions.resolveRoom(tenant, f).catch((err: unknown) => {
      if (err instanceof ApiError && err.errcode === 'M_NOT_FOUND')
        throw new ApiError('M_INVALID_PARAM', `room ${named}: no such room in tenant ${tenant}`);
      throw err;
    });
    if (!(await actions.isJoined(userId, room.roomId)))
      throw new ApiError('M_FORBIDDEN', `${userSlug} is not joined to ${room.kind} ${room.slug}`);
    return room.roomId;
  }
  const senderIdOf = async (tenant: string, f: SenderFilter): Promise<string> =>
    'userId' in f ? f.userId : (await directory.resolve(tenant, f.userSlug)).userId;

  async function handle(c: Context<RelayEnv>) {
    const tenant = canonicalTenant(c.req.param('tenant') ?? '');
    assertValid(tenantProblem(tenant));
    const input = readSearchInput(
      (n) => c.req.query(n),
      (n) => c.req.queries(n) ?? [],
    );
    const who = actingUser(c, tenant, c.req.query('userSlug'));
    const actor = c.get('actor');
    const user = actor.kind === 'user' ? actor.user : await directory.resolve(tenant, who.userSlug);
    const roomIds = await Promise.all(input.rooms.map((f) => roomIdOf(tenant, user.userId, who.userSlug, f)));
    const senderIds = await Promise.all(input.senders.map((f) => senderIdOf(tenant, f)));
    const asked = {
      tenant,
      userSlug: who.userSlug,
      term: canonicalQuery(input.q)!,
      roomIds: roomIds.length > 0 ? [...new Set(roomIds)].sort() : null,
      senderIds: senderIds.length > 0 ? [...new Set(senderIds)].sort() : null,
      from: input.from,
      to: input.to,
    };
    const fingerprint = searchFingerprint(asked);
    const found = await searcher.find(asked);
    const { page, next } = pageOf(found.matches, input.limit, fingerprint, input.cursor);
    const rooms = new Map(
      (await actions.roomsInfo(tenant, [...new Set(page.map((m) => m.roomId))])).map((r) => [r.roomId, r]),
    );
    const slugs = new Map<string, string | null>();
    for (const id of new Set(page.map((m) => m.sender))) slugs.set(id, await directory.slugBoundTo(tenant, id));
    return c.json({
      results: page.map((m) => {
        const room = rooms.get(m.roomId);
        return {
          eventId: m.eventId,
          roomId: m.roomId,
          room: room ? { kind: room.kind, slug: room.slug, name: room.name ?? null } : null,
          sender: m.sender,
          senderSlug: slugs.get(m.sender) ?? null,
          ts: m.ts,
          time: new Date(m.ts).toISOString(),
          msgtype: m.msgtype,
          body: m.body,
          rank: m.rank,
          highlights: highlightRanges(m.body, found.highlights),
        };
      }),
      highlights: found.highlights,
      count: found.count,
      capped: found.capped,
      next,
    });
  }

  return new Hono<RelayEnv, BlankSchema, typeof SEARCH_PREFIX>().get(
    below(SEARCH_PREFIX, search),
    auth,
    limited,
    handle,
  );
}
