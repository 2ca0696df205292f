/**
 * Room renames without services (decision 0031): which old aliases are kept and which are due,
 * what the workflow accepts as a rename, how the API refuses a bad one before the database, and
 * how `409 OM_ROOM_RENAMED` carries the new slug. The real thing: test/integration/room-renames.
 */
import { describe, expect, it } from '@jest/globals';
import { Hono } from 'hono';
import { canonicalContent, planSlugs, removalAt } from '../../activities/rooms/aliases.js';
import type { SlugRecord } from '../../adapters/store/room-slugs.js';
import { toErrorResponse } from '../../api/errors.js';
import { renamedError } from '../../api/room-slugs.js';
import { validateRoomChange } from '../../workflows/room.js';
import { serviceToken } from '../helpers/api.js';
import { serviceLessApp } from '../helpers/unit-app.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2027, 0, 31);
const slug = (s: string, renamedDaysAgo: number | null, removed = false): SlugRecord => ({
  slug: s,
  renamedAt: renamedDaysAgo === null ? null : new Date(NOW - renamedDaysAgo * DAY),
  aliasRemovedAt: removed ? new Date(NOW) : null,
});

describe("canonicalContent: the canonical alias event where the entity's aliases stand", () => {
  const ours = (a: string): boolean => a.startsWith('#om_t_group_');
  const [hikers, berlin] = ['#om_t_group_hikers:hs', '#om_t_group_hikers-berlin:hs'];

  it("in a room the service made: the current alias canonical, the kept ones and anyone else's alternatives", () => {
    expect(canonicalContent({ alias: hikers, alt_aliases: ['#x:hs', hikers] }, berlin, [hikers], ours)).toEqual({
      alias: berlin,
      alt_aliases: [hikers, '#x:hs'],
    });
    // An old alias no longer kept leaves the alternatives.
    expect(canonicalContent({ alias: berlin, alt_aliases: [hikers] }, berlin, [], ours)).toEqual({
      alias: berlin,
      alt_aliases: [],
    });
  });

  it("in an adopted room: the room's own canonical alias stays canonical, ours first among the alternatives", () => {
    const own = { alias: '#general:hs', alt_aliases: ['#lobby:hs', hikers], extra: 1 };
    expect(canonicalContent(own, berlin, [hikers], ours)).toEqual({
      alias: '#general:hs',
      alt_aliases: [berlin, hikers, '#lobby:hs'],
      extra: 1,
    });
    // Adopting a room with no canonical alias makes ours the canonical one.
    expect(canonicalContent({}, hikers, [], ours)).toEqual({ alias: hikers, alt_aliases: [] });
  });
});

describe('planSlugs', () => {
  it('keeps old aliases for the keep time, finds those past it, and skips those already removed', () => {
    const history = [slug('a', 40, true), slug('b', 31), slug('c', 2), slug('d', null)];
    const plan = planSlugs(history, 'd', 30 * DAY, NOW);
    expect(plan.current).toBe('d');
    expect(plan.slugs).toEqual(['a', 'b', 'c', 'd']);
    expect(plan.kept.map((s) => s.slug)).toEqual(['c']);
    expect(plan.expired.map((s) => s.slug)).toEqual(['b']);
    // The next removal is the kept one's: renamed 2 days ago, kept 30.
    expect(removalAt(plan.kept, 30 * DAY)).toBe(NOW + 28 * DAY);
    expect(removalAt([...plan.expired, ...plan.kept], 30 * DAY)).toBe(NOW - DAY);
  });

  it('a keep time of 0 makes every old alias due at once; a room never renamed has nothing to do', () => {
    const plan = planSlugs([slug('a', 0), slug('b', null)], 'b', 0, NOW);
    expect(plan.kept).toEqual([]);
    expect(plan.expired.map((s) => s.slug)).toEqual(['a']);
    const alone = planSlugs([slug('a', null)], 'a', 30 * DAY, NOW);
    expect(alone).toEqual({ current: 'a', slugs: ['a'], kept: [], expired: [] });
    expect(removalAt(alone.kept, 30 * DAY)).toBeNull();
  });
});

describe('validateRoomChange: rename', () => {
  it('takes a valid new slug for events and groups, and refuses DMs and bad slugs before they reach history', () => {
    expect(() => validateRoomChange('group', { type: 'rename', newSlug: 'hikers-2027' })).not.toThrow();
    expect(() => validateRoomChange('event', { type: 'rename', newSlug: 'Summer.Meetup_2' })).not.toThrow();
    expect(() => validateRoomChange('dm', { type: 'rename', newSlug: 'x' })).toThrow(/DM's slug is its two users/);
    expect(() => validateRoomChange('group', { type: 'rename', newSlug: 'a b' })).toThrow(/newSlug cannot be mapped/);
    expect(() => validateRoomChange('group', { type: 'rename' } as never)).toThrow(/newSlug must not be empty/);
  });
});

describe('409 OM_ROOM_RENAMED', () => {
  it('answers with the new slug beside errcode and error', async () => {
    const app = new Hono()
      .get('/', () => {
        throw renamedError({ kind: 'group', slug: 'hikers' }, 'hikers-berlin');
      })
      .onError((err, c) => toErrorResponse(c, err, () => undefined));
    const res = await app.request('/');
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      errcode: 'OM_ROOM_RENAMED',
      error: 'group "hikers" was renamed to "hikers-berlin": send this request with the new slug',
      newSlug: 'hikers-berlin',
    });
  });
});

describe('POST …/rename, before the database', () => {
  // The backend is unreachable: a request that passes validation answers 500 (test/helpers/unit-app.ts).
  // A 40-byte server name: "#om_acme_group_" + 200 bytes of escaped slug + ":" + 40 is 256 bytes.
  const { app, config } = serviceLessApp({ MATRIX_SERVER_NAME: 's'.repeat(40) });
  const rename = async (path: string, body: unknown) => {
    const res = await app.request(`/v1/tenants/acme/rooms/${path}/rename`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await serviceToken(config)}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { errcode: string; error: string } };
  };

  it('refuses a DM, a missing, malformed or unknown field, and a new slug whose alias would be too long, naming it', async () => {
    expect(await rename('dm/alice~bob', { newSlug: 'x' })).toEqual({
      status: 400,
      body: { errcode: 'M_INVALID_PARAM', error: "a DM's slug is its two users: it is not renamed" },
    });
    expect((await rename('group/hikers', {})).body).toEqual({
      errcode: 'M_BAD_JSON',
      error: expect.stringMatching(/newSlug/),
    });
    expect((await rename('group/hikers', { newSlug: 'no spaces' })).body).toEqual({
      errcode: 'M_INVALID_PARAM',
      error: expect.stringMatching(/^newSlug cannot be mapped/),
    });
    expect((await rename('group/hikers', { newSlug: 'x', slug: 'y' })).body.errcode).toBe('M_BAD_JSON');
    // 100 upper-case letters escape to 200 bytes of localpart.
    expect((await rename('group/hikers', { newSlug: 'H'.repeat(100) })).body).toEqual({
      errcode: 'M_INVALID_PARAM',
      error: expect.stringMatching(/^newSlug is too long: the room alias would be \d+ bytes/),
    });
    expect((await rename('group/hikers', 'not json')).status).toBe(400);
  });

  it('lets a valid rename through to the database', async () => {
    expect((await rename('group/hikers', { newSlug: 'hikers-berlin' })).status).toBe(500);
  });
});
