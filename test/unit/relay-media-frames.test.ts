/**
 * Media events on the socket (decision 0041): each user's frame carries download URLs signed for
 * them, in the replay and live alike; the stored row stays as the homeserver sent it, and frames
 * without media are still one shared serialization.
 */
import { describe, expect, it } from '@jest/globals';
import type { RelayActions } from '../../api/relay/actions.js';
import { mediaUrlSigner } from '../../api/media/signed-urls.js';
import { createSession, type SocketLike } from '../../api/relay/session.js';
import type { IncomingEvent } from '../../adapters/store/events.js';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';
import { MemoryEventLog } from '../helpers/memory-event-log.js';

const uid = (slug: string): string => `@om_acme_${slug}:hs`;
const media = mediaUrlSigner(new TextEncoder().encode('s'.repeat(40)), 600);
const event = (id: string, content: Record<string, unknown>, extra: Record<string, unknown> = {}): IncomingEvent => ({
  ephemeral: false,
  event: { type: 'm.room.message', room_id: '!a', event_id: id, content, ...extra },
});
const join = (slug: string): IncomingEvent =>
  event(`$join-${slug}`, { membership: 'join' }, { type: 'm.room.member', state_key: uid(slug) });

class Socket implements SocketLike {
  texts: string[] = [];
  bufferedAmount = 0;
  send(data: string): void {
    this.texts.push(data);
  }
  close(): void {}
  events(): Record<string, unknown>[] {
    return this.texts
      .map((t) => JSON.parse(t) as { type: string; event: Record<string, unknown> })
      .filter((f) => f.type === 'event')
      .map((f) => f.event);
  }
}

describe('media events on the relay', () => {
  it('are signed for each socket user, in replay and live, and stored unsigned', async () => {
    const log = new MemoryEventLog();
    log.tenantOf.set('!a', 'acme');
    const feed = { head: 0, ready: Promise.resolve() };
    const deps = {
      log,
      feed,
      actions: { roomsInfo: async () => [] } as unknown as RelayActions,
      homeserver: { joinedRooms: async () => [] },
      limits: loadConfig(MINIMAL_ENV).relay,
      logger: createLogger('test', 'silent'),
      media,
    };
    const image = (id: string) =>
      event(id, { msgtype: 'm.image', body: 'a.png', url: 'mxc://hs/Pic', info: { thumbnail_url: 'mxc://hs/Th' } });
    const sockets = { alice: new Socket(), bob: new Socket() };
    const sessions = Object.entries(sockets).map(([slug, socket]) =>
      createSession(
        socket,
        { tenant: 'acme', userSlug: slug, userId: uid(slug), canActAs: true, expiresAt: Date.now() / 1000 + 3600 },
        deps,
      ),
    );
    let rows = log.push(
      join('alice'),
      join('bob'),
      image('$replayed'),
      event('$text', { msgtype: 'm.text', body: 'hi' }),
    );
    feed.head = rows.at(-1)!.seq;
    await Promise.all(sessions.map((s) => s.start(0)));
    rows = log.push(image('$live'));
    feed.head = rows.at(-1)!.seq;
    sessions.forEach((s) => s.deliver(rows));

    for (const [slug, socket] of Object.entries(sockets)) {
      const shown = socket.events().filter((e) => e.media) as {
        event_id: string;
        media: { url: string; thumbnailUrl: string };
      }[];
      expect(shown.map((e) => e.event_id)).toEqual(['$replayed', '$live']);
      for (const e of shown) {
        expect(new URL(e.media.url, 'http://x').searchParams.get('user')).toBe(uid(slug));
        expect(e.media.url).toMatch(/^\/v1\/media\/hs\/Pic\?/);
        expect(e.media.thumbnailUrl).toMatch(/^\/v1\/media\/hs\/Th\?/);
      }
    }
    // The text message is the same serialization on both sockets; the stored rows carry no URL.
    const text = (s: Socket) => s.texts.find((t) => t.includes('"$text"'));
    expect(text(sockets.alice)).toBe(text(sockets.bob));
    const stored = await log.read(0, { upTo: feed.head, limit: 100, rooms: ['!a'] });
    expect(JSON.stringify(stored.map((r) => r.event))).not.toMatch(/media|sig=/);
  });
});
