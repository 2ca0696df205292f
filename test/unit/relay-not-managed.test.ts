/**
 * On the socket, a user the service cannot act as (an adopted account outside its identity mode's
 * reach) is refused sends, typing and read receipts with OM_USER_NOT_MANAGED, before anything is
 * looked up or started; ping still answers. The HTTP side is shown on the real stack
 * (test/integration/adoption*.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { createFrameHandler } from '../../api/relay/client-frames.js';
import type { RelayActions } from '../../api/relay/actions.js';
import { loadConfig } from '../../lib/config.js';
import { MINIMAL_ENV } from '../helpers/minimal-env.js';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

function socket(canActAs: boolean) {
  const sent: Record<string, unknown>[] = [];
  const reached: string[] = [];
  // Any call reaching the system behind the socket is recorded: a refused frame must reach none.
  const actions = new Proxy({} as RelayActions, {
    get: (_t, name) => async () => {
      reached.push(String(name));
      if (name === 'resolveRoom') return { tenant: 'acme', roomId: '!r:hs', kind: 'event', slug: 'meetup', name: null };
      if (name === 'isJoined') return true;
      if (name === 'send')
        return { workflowId: 'msg:acme:rob:t1', result: async () => ({ eventId: '$e', roomId: '!r:hs' }) };
      return undefined;
    },
  });
  const handler = createFrameHandler({
    user: {
      tenant: 'acme',
      userSlug: 'rob',
      userId: '@rob:elsewhere.example',
      canActAs,
      expiresAt: Date.now() / 1000 + 60,
    },
    limits: loadConfig(MINIMAL_ENV).relay,
    actions,
    logger: pino({ level: 'silent' }),
    send: (t) => sent.push(JSON.parse(t) as Record<string, unknown>),
    joinedNow: () => true,
    closed: new AbortController().signal,
  });
  return { handler, sent, reached };
}

const room = { kind: 'event', slug: 'meetup' };

describe('a socket of a user the service cannot act as', () => {
  it('is refused sends, typing and receipts with OM_USER_NOT_MANAGED, and nothing is started', async () => {
    const { handler, sent, reached } = socket(false);
    handler(JSON.stringify({ type: 'send', id: 'f1', txnId: 't1', body: 'hi', ...room }));
    handler(JSON.stringify({ type: 'typing', id: 'f2', typing: true, ...room }));
    handler(JSON.stringify({ type: 'read', id: 'f3', eventId: '$e', ...room }));
    handler(JSON.stringify({ type: 'ping', id: 'f4' }));
    await tick();
    expect(reached).toEqual([]);
    const refusal = {
      v: 1,
      type: 'error',
      errcode: 'OM_USER_NOT_MANAGED',
      error:
        'the service cannot act as @rob:elsewhere.example: only your own Matrix client can send, type or read for you',
    };
    expect(sent).toEqual(
      expect.arrayContaining([
        { ...refusal, id: 'f1', txnId: 't1' },
        { ...refusal, id: 'f2' },
        { ...refusal, id: 'f3' },
        { v: 1, type: 'pong', id: 'f4' },
      ]),
    );
    expect(sent).toHaveLength(4);
  });

  it('while the same frames of a user it acts as go through', async () => {
    const { handler, sent, reached } = socket(true);
    handler(JSON.stringify({ type: 'send', id: 'f1', txnId: 't1', body: 'hi', ...room }));
    await tick();
    expect(reached).toEqual(['resolveRoom', 'send']);
    expect(sent.map((f) => f.type)).toEqual(['queued', 'sent']);
  });
});
