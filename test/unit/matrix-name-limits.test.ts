/**
 * Matrix user ids and room aliases are at most 255 bytes (UTF-8, with sigil and server name): every
 * route that derives one refuses a longer one with 400 naming the limit, before the homeserver.
 * Here the server name is long enough for the limit to bite at the 32-character tenant; the
 * backend is unreachable, so a request that passes the check answers 500 instead (test/helpers/unit-app.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { matrixUserId, roomAliasLocalpart, roomAliasProblem, userIdProblem } from '../../workflows/ids.js';
import { serviceLessApp } from '../helpers/unit-app.js';

// 1 + "om_" + tenant (32) + "_" + slug + ":" + server: 255 bytes with a 100-byte localpart slug.
const SERVER = 's'.repeat(117);
const TENANT = 'a'.repeat(32);
const { app, config } = serviceLessApp({ MATRIX_SERVER_NAME: SERVER });
const token = await new SignJWT({ tenants: ['*'] })
  .setProtectedHeader({ alg: 'HS256' })
  .setIssuer(config.serviceJwt.issuer)
  .setAudience(config.serviceJwt.audience)
  .setIssuedAt()
  .setExpirationTime('1h')
  .sign(config.serviceJwt.secret!);

const userAtLimit = 'u'.repeat(100); // @om_{tenant}_{slug}:{server} = 255 bytes
const userOver = 'U' + 'u'.repeat(99); // "U" escapes to "_u": 256 bytes
const roomAtLimit = 'r'.repeat(94); // #om_{tenant}_event_{slug}:{server} = 255 bytes
const roomOver = 'r'.repeat(95);
const utf8 = (s: string) => Buffer.byteLength(s);

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

const T = `/v1/tenants/${TENANT}`;
const tooLong = (what: RegExp) => ({
  status: 400,
  body: {
    errcode: 'M_INVALID_PARAM',
    error: expect.stringMatching(new RegExp(`${what.source}.*over Matrix's limit of 255`)),
  },
});

describe('the 255-byte limits, as computed', () => {
  it('count UTF-8 bytes of the whole id, sigil and server name included', () => {
    expect(utf8(matrixUserId('om', SERVER, TENANT, userAtLimit))).toBe(255);
    expect(userIdProblem('om', SERVER, TENANT, userAtLimit)).toBeNull();
    expect(utf8(matrixUserId('om', SERVER, TENANT, userOver))).toBe(256);
    expect(userIdProblem('om', SERVER, TENANT, userOver)).toMatch(
      /slug is too long: its Matrix user id would be 256 bytes/,
    );
    expect(utf8(`#${roomAliasLocalpart('om', TENANT, 'event', roomAtLimit)}:${SERVER}`)).toBe(255);
    expect(roomAliasProblem('om', SERVER, TENANT, 'event', roomAtLimit)).toBeNull();
    expect(roomAliasProblem('om', SERVER, TENANT, 'event', roomOver)).toMatch(/room alias would be 256 bytes/);
    // A multi-byte server name counts in bytes, not characters.
    expect(userIdProblem('om', 'é'.repeat(59), TENANT, userAtLimit)).toMatch(/would be 256 bytes/);
  });
});

describe('every route that derives a Matrix name refuses one over the limit with 400, and lets the longest valid one through', () => {
  it.each([
    [
      'POST users',
      'POST',
      `${T}/users`,
      { slug: userOver, displayName: 'U' },
      { slug: userAtLimit, displayName: 'U' },
      /slug is too long: its Matrix user id/,
    ],
    ['PUT room', 'PUT', `${T}/rooms/event/${roomOver}`, {}, undefined, /slug is too long: the room alias/],
    ['PUT member', 'PUT', `${T}/rooms/group/g/members/${userOver}`, {}, undefined, /userSlug is too long/],
    ['DELETE member', 'DELETE', `${T}/rooms/group/g/members/${userOver}`, undefined, undefined, /userSlug is too long/],
    ['POST dms', 'POST', `${T}/dms`, { users: ['a', userOver] }, { users: ['a', 'b'] }, /DM user slug is too long/],
    [
      'event intake: created',
      'POST',
      `${T}/events`,
      { type: 'chat.event.created', data: { slug: roomOver } },
      { type: 'chat.event.created', data: { slug: roomAtLimit } },
      /slug is too long: the room alias/,
    ],
    [
      'event intake: member.add',
      'POST',
      `${T}/events`,
      { type: 'chat.group.member.add', data: { slug: 'g', userSlug: userOver } },
      { type: 'chat.group.member.add', data: { slug: 'g', userSlug: userAtLimit } },
      /userSlug is too long/,
    ],
    [
      'event intake: dm.created',
      'POST',
      `${T}/events`,
      { type: 'chat.dm.created', data: { users: [userOver, 'z'] } },
      undefined,
      /too long/,
    ],
    [
      'POST messages',
      'POST',
      `${T}/rooms/event/e/messages`,
      { txnId: 't1', body: 'hi', userSlug: userOver },
      { txnId: 't1', body: 'hi', userSlug: userAtLimit },
      /userSlug is too long/,
    ],
  ])('%s', async (_route, method, path, over, atLimit, message) => {
    expect(await call(method, path, over)).toEqual(tooLong(message));
    if (atLimit !== undefined) expect((await call(method, path, atLimit)).status).not.toBe(400);
  });

  it('refuses a DM whose alias (two slugs) is too long though each user fits', async () => {
    const a = 'a'.repeat(100);
    const b = 'b'.repeat(100);
    expect(userIdProblem('om', SERVER, TENANT, a)).toBeNull();
    expect(await call('POST', `${T}/dms`, { users: [a, b] })).toEqual(
      tooLong(/the DM's user slugs are too long: the room alias/),
    );
  });
});
