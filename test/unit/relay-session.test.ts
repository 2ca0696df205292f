/**
 * One socket's session against an in-memory event log and a fake socket that records what it is
 * sent: the replay-to-live handoff loses and repeats nothing, membership follows the log position,
 * slow consumers are cut off live and waited for during replay.
 */
import { describe, expect, it } from '@jest/globals';
import type { RelayActions } from '../../api/relay/actions.js';
import { createSession, type SocketLike } from '../../api/relay/session.js';
import type { UserPrincipal } from '../../api/relay/user-auth.js';
import type { IncomingEvent } from '../../adapters/store/events.js';
import { loadConfig } from '../../lib/config.js';
import { createLogger } from '../../lib/log.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';
import { MemoryEventLog } from '../helpers/memory-event-log.js';

const ME = '@om_acme_alice:hs';
const user: UserPrincipal = {
  tenant: 'acme',
  userSlug: 'alice',
  userId: ME,
  canActAs: true,
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
};
// The defaults, with a small buffer so a test fills it quickly.
const limits = { ...loadConfig(MINIMAL_ENV).relay, retentionHours: 1, maxBufferedBytes: 16_384 };

class FakeSocket implements SocketLike {
  frames: Record<string, unknown>[] = [];
  closedWith: [number, string] | null = null;
  bufferedAmount = 0;
  send(data: string): void {
    if (this.closedWith) throw new Error('send after close');
    this.frames.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
  bodies(): string[] {
    return this.frames
      .filter((f) => f.type === 'event')
      .map((f) =>
        String(
          (f.event as { content: { body?: string; membership?: string } }).content.body ??
            (f.event as { content: { membership: string } }).content.membership,
        ),
      );
  }
}

let n = 0;
const msg = (roomId: string, body: string): IncomingEvent => ({
  ephemeral: false,
  event: { type: 'm.room.message', room_id: roomId, event_id: `$${++n}`, content: { body } },
});
const member = (roomId: string, who: string, membership: string): IncomingEvent => ({
  ephemeral: false,
  event: { type: 'm.room.member', room_id: roomId, event_id: `$${++n}`, state_key: who, content: { membership } },
});
const actions = { roomsInfo: async () => [] } as unknown as RelayActions;

function setup(sessionActions: RelayActions = actions) {
  const log = new MemoryEventLog();
  log.tenantOf.set('!a', 'acme');
  log.tenantOf.set('!b', 'acme');
  const feed = { head: 0, ready: Promise.resolve() };
  const socket = new FakeSocket();
  const refused: string[] = [];
  const session = createSession(socket, user, {
    log,
    feed,
    actions: sessionActions,
    homeserver: { joinedRooms: async () => [] },
    limits,
    logger: createLogger('test', 'silent'),
    refused: (limit) => void refused.push(limit),
  });
  /** What the instance's feed does: store, move the head, dispatch. */
  const publish = (...events: IncomingEvent[]) => {
    const rows = log.push(...events);
    feed.head = rows.at(-1)!.seq;
    session.deliver(rows);
  };
  return { log, feed, socket, session, publish, refused };
}

describe('relay session', () => {
  it('replays from the position, then goes live without losing or repeating rows that arrive meanwhile', async () => {
    const { log, feed, socket, session, publish } = setup();
    publish(member('!a', ME, 'join'), msg('!a', 'old'));
    const position = feed.head;
    publish(msg('!a', 'missed 1'), msg('!a', 'missed 2'));
    // While the replay reads, more rows are stored and dispatched live (ignored until the handoff).
    const read = log.read.bind(log);
    let reads = 0;
    log.read = async (after, opts) => {
      const rows = await read(after, opts);
      if (++reads <= 2) publish(msg('!a', `during replay ${reads}`));
      return rows;
    };
    await session.start(position);
    publish(msg('!a', 'live'));
    expect(socket.bodies()).toEqual(['missed 1', 'missed 2', 'during replay 1', 'during replay 2', 'live']);
    const types = socket.frames.map((f) => f.type);
    expect(types.indexOf('live')).toBe(types.lastIndexOf('event') - 1);
    const seqs = socket.frames.filter((f) => f.type === 'event').map((f) => f.seq as number);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('judges membership at each row: nothing before the join, nothing after the removal', async () => {
    const { socket, session, publish } = setup();
    publish(msg('!a', 'before invite'), member('!b', ME, 'join'));
    await session.start(0);
    publish(
      msg('!a', 'before join'),
      member('!a', ME, 'join'),
      msg('!a', 'member'),
      member('!a', ME, 'leave'),
      msg('!a', 'after leave'),
      msg('!b', 'other room'),
    );
    expect(socket.bodies()).toEqual(['join', 'join', 'member', 'leave', 'other room']);
  });

  it('tells a client behind the retention horizon to refetch, and starts from now', async () => {
    const { log, socket, session, publish } = setup();
    publish(member('!a', ME, 'join'), msg('!a', 'gone'), msg('!a', 'kept'));
    log.pruneThrough(2);
    await session.start(1);
    expect(socket.frames.map((f) => f.type)).toEqual(['hello', 'resync', 'live']);
    expect(socket.frames[1]).toMatchObject({ reason: 'beyond_retention', seq: 3 });
  });

  it('cuts off a live socket whose unread data exceeds the limit (4408), and sends it nothing more', async () => {
    const { socket, session, publish } = setup();
    publish(member('!a', ME, 'join'));
    await session.start(null);
    publish(msg('!a', 'read promptly'));
    socket.bufferedAmount = limits.maxBufferedBytes + 1;
    publish(msg('!a', 'piles up'), msg('!a', 'and up'));
    expect(socket.closedWith?.[0]).toBe(4408);
    expect(socket.bodies()).toEqual(['read promptly']);
  });

  it('waits for a slow client during replay instead of cutting it off', async () => {
    const { socket, session, publish, feed } = setup();
    publish(member('!a', ME, 'join'));
    const position = feed.head;
    publish(msg('!a', 'one'), msg('!a', 'two'));
    const started = session.start(position);
    // The replay keeps to the lower half of the buffer, and waits while it is above.
    socket.bufferedAmount = limits.maxBufferedBytes / 2 + 1;
    await new Promise((r) => setTimeout(r, 100));
    expect(socket.closedWith).toBeNull();
    expect(socket.bodies()).toEqual([]);
    socket.bufferedAmount = 0;
    await started;
    expect(socket.bodies()).toEqual(['one', 'two']);
    expect(socket.frames.at(-1)?.type).toBe('live');
  });

  it('cuts off (4408) a client that floods frames while replaying and reads nothing, instead of holding the answers', async () => {
    const { socket, session, publish, feed, refused } = setup();
    publish(member('!a', ME, 'join'));
    const position = feed.head;
    publish(msg('!a', 'one'), msg('!a', 'two'));
    // The client reads nothing: what the server sends stays buffered.
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      send(data);
      socket.bufferedAmount += Buffer.byteLength(data);
    };
    socket.bufferedAmount = limits.maxBufferedBytes / 2 + 1;
    const started = session.start(position);
    await new Promise((r) => setTimeout(r, 50));
    let answered = 0;
    for (let i = 0; i < 10_000 && !socket.closedWith; i++) {
      session.receive(JSON.stringify({ type: 'nonsense', id: `f${i}` }));
      answered = socket.frames.filter((f) => f.type === 'error').length;
    }
    await started;
    expect(socket.closedWith).toEqual([4408, expect.stringMatching(/slow consumer/)]);
    // Answers stopped at the limit, not at the end of the flood.
    expect(socket.bufferedAmount).toBeLessThanOrEqual(limits.maxBufferedBytes + 200);
    expect(answered).toBeLessThan(1_000);
    expect(socket.bodies()).toEqual([]);
    // Counted once, as the limit the socket ran into (the frames over the rate are counted too).
    expect(refused.filter((l) => l === 'buffered_bytes')).toHaveLength(1);
    expect(new Set(refused)).toEqual(new Set(['frames_per_socket', 'buffered_bytes']));
  });

  it("ends the wait of a send still pending when the socket closes (the session's signal aborts it)", async () => {
    let signalOfSend: AbortSignal | undefined;
    const sendActions = {
      ...actions,
      resolveRoom: async () => ({ tenant: 'acme', roomId: '!a', kind: 'event', slug: 's', name: null }),
      send: async () => ({
        workflowId: 'msg:acme:t1',
        // A send that never finishes unless its wait is ended.
        result: (signal?: AbortSignal) =>
          new Promise((_, reject) => {
            signalOfSend = signal;
            signal?.addEventListener('abort', () => reject(signal.reason as Error));
          }),
      }),
    } as unknown as RelayActions;
    const { socket, session, publish } = setup(sendActions);
    publish(member('!a', ME, 'join'));
    await session.start(null);
    session.receive(JSON.stringify({ type: 'send', id: 's', roomId: '!a', txnId: 't1', body: 'hi' }));
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.frames.find((f) => f.type === 'queued')).toMatchObject({ id: 's', workflowId: 'msg:acme:t1' });
    expect(signalOfSend?.aborted).toBe(false);
    session.close(1000, 'bye');
    expect(signalOfSend?.aborted).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.frames.filter((f) => f.type === 'error' || f.type === 'sent')).toEqual([]);
  });

  it('closes with 4401 once its token has expired, and only then, and ends the session once', async () => {
    const { socket, session, publish } = setup();
    publish(member('!a', ME, 'join'));
    await session.start(null);
    const exp = user.expiresAt * 1000;
    expect(session.expireBy(exp - 1)).toBe(false);
    expect(socket.closedWith).toBeNull();
    expect(session.expireBy(exp)).toBe(true);
    expect(socket.closedWith).toEqual([4401, expect.stringMatching(/token expired/)]);
    expect(session.expireBy(exp + 1)).toBe(false);
    publish(msg('!a', 'after the close'));
    expect(socket.bodies()).toEqual([]);
  });

  it('makes the frame handler on the first frame only, and none once closed', async () => {
    const { socket, session } = setup();
    await session.start(null);
    session.receive(JSON.stringify({ type: 'ping', id: 'p1' }));
    session.receive(JSON.stringify({ type: 'ping', id: 'p2' }));
    expect(socket.frames.filter((f) => f.type === 'pong').map((f) => f.id)).toEqual(['p1', 'p2']);
    session.close(1000, 'bye');
    session.receive(JSON.stringify({ type: 'ping', id: 'p3' }));
    expect(socket.frames.filter((f) => f.type === 'pong')).toHaveLength(2);
  });
});
