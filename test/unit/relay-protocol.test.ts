import { describe, expect, it } from '@jest/globals';
import type { LogRow } from '../../adapters/store/events.js';
import type { ApiError } from '../../api/errors.js';
import { readMessage } from '../../api/message-input.js';
import { parseClientFrame, rowFrame, type ParseResult } from '../../api/relay/protocol.js';

const ok = (r: ParseResult) => (r.ok ? r.frame : r);
const parse = (frame: unknown): ParseResult =>
  parseClientFrame(typeof frame === 'string' ? frame : JSON.stringify(frame));

describe('parseClientFrame', () => {
  it('reads each frame type, defaulting msgtype to m.text and naming rooms by id or by kind and slug', () => {
    expect(ok(parse({ type: 'ping' }))).toEqual({ type: 'ping' });
    expect(
      ok(parse({ v: 1, type: 'send', id: 'c-1', kind: 'event', slug: 'party', txnId: 'abc', body: 'hi' })),
    ).toEqual({
      type: 'send',
      id: 'c-1',
      room: { kind: 'event', slug: 'party' },
      txnId: 'abc',
      body: 'hi',
      msgtype: 'm.text',
    });
    expect(ok(parse({ type: 'send', roomId: '!AbC123', txnId: 't', body: 'x', msgtype: 'm.emote' }))).toMatchObject({
      room: { roomId: '!AbC123' },
      msgtype: 'm.emote',
    });
    expect(ok(parse({ type: 'typing', roomId: '!old:example.org', typing: false }))).toEqual({
      type: 'typing',
      room: { roomId: '!old:example.org' },
      typing: false,
    });
    expect(ok(parse({ type: 'read', kind: 'dm', slug: 'a~b', eventId: '$ev' }))).toEqual({
      type: 'read',
      room: { kind: 'dm', slug: 'a~b' },
      eventId: '$ev',
    });
  });

  it.each([
    ['frame is not valid JSON', 'M_NOT_JSON', '{nope'],
    ['frame must be a JSON object', 'M_BAD_JSON', '[1]'],
    ['frame must be a JSON object', 'M_BAD_JSON', 'null'],
    ['missing field "type"', 'M_BAD_JSON', { id: 'x' }],
    ['unknown frame type "shout"; known: ping, send, delete, react, typing, read', 'M_UNRECOGNIZED', { type: 'shout' }],
    ['unknown frame type "toString"; known: ping, send, delete, react, typing, read', 'M_UNRECOGNIZED', { type: 'toString' }],
    ['unknown field for "ping": "extra"', 'M_BAD_JSON', { type: 'ping', extra: 1 }],
    ['protocol version 2 is not supported; this server speaks 1', 'M_INVALID_PARAM', { type: 'ping', v: 2 }],
    ['field "id" must be 1-64 characters of A-Z a-z 0-9 . _ : -', 'M_INVALID_PARAM', { type: 'ping', id: 'has space' }],
    ['missing the room: "roomId", or "kind" and "slug"', 'M_BAD_JSON', { type: 'typing', typing: true }],
    [
      'name the room by "roomId" or by "kind" and "slug", not both',
      'M_INVALID_PARAM',
      { type: 'typing', roomId: '!a', kind: 'event', slug: 'x', typing: true },
    ],
    [
      'field "roomId" must be a Matrix room id like "!abc" or "!abc:server"',
      'M_INVALID_PARAM',
      { type: 'typing', roomId: 'a:b', typing: true },
    ],
    [
      'field "kind" must be event, group or dm',
      'M_INVALID_PARAM',
      { type: 'typing', kind: 'party', slug: 'x', typing: true },
    ],
    [
      'a DM slug lists its two users in sorted order',
      'M_INVALID_PARAM',
      { type: 'typing', kind: 'dm', slug: 'b~a', typing: true },
    ],
    ['field "typing" must be true or false', 'M_BAD_JSON', { type: 'typing', kind: 'event', slug: 'x', typing: 'yes' }],
    [
      'field "eventId" must be a Matrix event id like "$abc"',
      'M_INVALID_PARAM',
      { type: 'read', kind: 'event', slug: 'x', eventId: 'ev' },
    ],
    ['missing field "txnId"', 'M_BAD_JSON', { type: 'send', kind: 'event', slug: 'x', body: 'b' }],
    [
      'txnId must be 1-64 characters of A-Z a-z 0-9 . _ ~ -',
      'M_INVALID_PARAM',
      { type: 'send', kind: 'event', slug: 'x', txnId: 'a:b', body: 'b' },
    ],
    [
      'field "body" must not be empty',
      'M_INVALID_PARAM',
      { type: 'send', kind: 'event', slug: 'x', txnId: 't', body: '  ' },
    ],
    [
      'field "body" is longer than 16000 characters',
      'M_INVALID_PARAM',
      { type: 'send', kind: 'event', slug: 'x', txnId: 't', body: 'x'.repeat(16_001) },
    ],
    [
      'field "body" contains control characters other than tab and line breaks',
      'M_INVALID_PARAM',
      { type: 'send', kind: 'event', slug: 'x', txnId: 't', body: 'a\u0000b' },
    ],
    [
      'field "msgtype" must be one of "m.text", "m.notice", "m.emote"',
      'M_INVALID_PARAM',
      { type: 'send', kind: 'event', slug: 'x', txnId: 't', body: 'b', msgtype: 'm.image' },
    ],
    [
      'frame is nested deeper than 16 levels',
      'M_BAD_JSON',
      `{"type":"ping","v":${'['.repeat(6_000)}${']'.repeat(6_000)}}`,
    ],
    [
      'frame has a "__proto__" or "constructor.prototype" key, which is refused',
      'M_BAD_JSON',
      '{"type":"ping","__proto__":{"x":1}}',
    ],
    ['frame holds a string longer than 32,768 characters', 'M_TOO_LARGE', { type: 'ping', v: 'x'.repeat(40_000) }],
    [
      `protocol version "${'x'.repeat(64)}"… (10000 characters) is not supported; this server speaks 1`,
      'M_INVALID_PARAM',
      { type: 'ping', v: 'x'.repeat(10_000) },
    ],
    [
      'protocol version an object is not supported; this server speaks 1',
      'M_INVALID_PARAM',
      { type: 'ping', v: { a: [1] } },
    ],
    [
      `unknown frame type "${'t'.repeat(64)}"… (20000 characters); known: ping, send, delete, react, typing, read`,
      'M_UNRECOGNIZED',
      { type: 't'.repeat(20_000) },
    ],
    [
      'unknown fields for "ping": "a", "b", "c" and 57 more',
      'M_BAD_JSON',
      {
        type: 'ping',
        ...Object.fromEntries(['a', 'b', 'c', ...Array.from({ length: 57 }, (_, i) => `k${i}`)].map((k) => [k, 1])),
      },
    ],
  ])('refuses, naming the problem: %s (%s)', (error, errcode, frame) => {
    expect(parse(frame)).toMatchObject({ ok: false, errcode, error });
  });

  it('takes a multi-line message (tab and line breaks are text)', () => {
    expect(ok(parse({ type: 'send', kind: 'event', slug: 'x', txnId: 't', body: 'one\r\n\ttwo' }))).toMatchObject({
      body: 'one\r\n\ttwo',
    });
  });

  it('reads a message with the same function as POST …/messages: the same input is refused with the same error', () => {
    const inputs: Record<string, unknown>[] = [
      {},
      { txnId: 't' },
      { txnId: 't', body: 7 },
      { txnId: '', body: 'b' },
      { txnId: 'x'.repeat(65), body: 'b' },
      { txnId: 'a b', body: 'b' },
      { txnId: 't', body: ' \n ' },
      { txnId: 't', body: 'a\u0007' },
      { txnId: 't', body: 'x'.repeat(16_001) },
      { txnId: 't', body: 'b', msgtype: null },
      { txnId: 't', body: 'b', msgtype: 'm.image' },
      { txnId: 't', body: 'b', msgtype: 'm.emote' },
    ];
    for (const input of inputs) {
      let http: unknown;
      try {
        http = { ok: true, message: readMessage(input) };
      } catch (err) {
        const e = err as ApiError;
        http = { ok: false, errcode: e.errcode, error: e.message };
      }
      const socket = parse({ type: 'send', kind: 'event', slug: 'x', ...input });
      expect(
        socket.ok
          ? {
              ok: true,
              message: {
                txnId: (socket.frame as { txnId: string }).txnId,
                body: (socket.frame as { body: string }).body,
                msgtype: (socket.frame as { msgtype: string }).msgtype,
              },
            }
          : socket,
      ).toEqual(http);
    }
  });

  it('echoes a valid client id on a refusal, so the client can match it', () => {
    expect(parse({ type: 'send', id: 'req-7', kind: 'event', slug: 'x', body: 'b' })).toEqual({
      ok: false,
      errcode: 'M_BAD_JSON',
      error: 'missing field "txnId"',
      id: 'req-7',
    });
  });
});

describe('rowFrame', () => {
  const row: LogRow = {
    seq: 42,
    roomId: '!r',
    roomSeq: 7,
    ephemeral: false,
    type: 'm.room.message',
    sender: '@a:hs',
    stateKey: null,
    event: { type: 'm.room.message', event_id: '$e', content: { body: 'hi' } },
    tenant: 'acme',
    kind: 'event',
    slug: 'party',
  };
  it('carries the version, both sequences, the room as the platform names it, and the Matrix event', () => {
    expect(JSON.parse(rowFrame(row))).toEqual({
      v: 1,
      type: 'event',
      seq: 42,
      roomSeq: 7,
      room: { id: '!r', kind: 'event', slug: 'party' },
      event: row.event,
    });
    expect(JSON.parse(rowFrame({ ...row, ephemeral: true, type: 'm.typing' })).type).toBe('ephemeral');
  });

  it('serializes a row once however many sockets it goes to', () => {
    let serialized = 0;
    const event = { toJSON: () => (serialized++, { type: 'm.room.message', content: { body: 'hi' } }) };
    const shared: LogRow = { ...row, event: event as unknown as LogRow['event'] };
    const frames = Array.from({ length: 2000 }, () => rowFrame(shared));
    expect(serialized).toBe(1);
    expect(new Set(frames).size).toBe(1);
    expect(JSON.parse(frames[0]!).event).toEqual({ type: 'm.room.message', content: { body: 'hi' } });
  });
});
