/**
 * The pure parts of editing, deleting and reacting (decision 0044): who may delete (the spec's
 * power-level rules), the content of a rich send, reaction counts and the shown version of an event
 * in history, the `change` of a live frame, and the socket's `delete` / `react` frames.
 * On the real stack: test/integration/message-changes.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { messageContent } from '../../adapters/matrix/message-content.js';
import { redactRefusal } from '../../api/relay/message-changes.js';
import { changeOf, reactionCounts, shownEvent } from '../../api/relay/history-view.js';
import { parseClientFrame } from '../../api/relay/protocol.js';

const send = { tenant: 'acme', userSlug: 'alice', kind: 'event', slug: 'x', roomId: '!r', clientTxnId: 't1', msgtype: 'm.text', body: 'hi' } as const;

describe('redactRefusal', () => {
  const pl = { users: { '@host:hs': 100, '@mod:hs': 50 }, users_default: 0, redact: 50 };
  it("lets anyone delete their own, and the redact level anyone's", () => {
    expect(redactRefusal(pl, '@ann:hs', '@ann:hs')).toBeNull();
    expect(redactRefusal(pl, '@mod:hs', '@ann:hs')).toBeNull();
    expect(redactRefusal(pl, '@host:hs', '@ann:hs')).toBeNull();
  });
  it("refuses someone else's below the redact level, naming both levels", () => {
    expect(redactRefusal(pl, '@bob:hs', '@ann:hs')).toBe(
      'only its sender or someone with power level 50 or more (a host or moderator) may delete this message; yours is 0',
    );
    expect(redactRefusal({ ...pl, redact: 75 }, '@mod:hs', '@ann:hs')).toMatch(/power level 75 .* yours is 50/);
    // The default redact level is 50.
    expect(redactRefusal({ users_default: 10 }, '@bob:hs', '@ann:hs')).toMatch(/power level 50 .* yours is 10/);
  });
  it('refuses even one\'s own below the level for sending redactions', () => {
    expect(redactRefusal({ ...pl, events: { 'm.room.redaction': 20 } }, '@ann:hs', '@ann:hs')).toBe(
      'deleting messages in this room needs power level 20; yours is 0',
    );
    expect(redactRefusal({ ...pl, events_default: 5 }, '@ann:hs', '@ann:hs')).toMatch(/needs power level 5/);
  });
});

describe('messageContent', () => {
  it('plain, html, reply and edit', () => {
    expect(messageContent(send)).toEqual({ msgtype: 'm.text', body: 'hi', 'org.openmeet.txn_id': 't1' });
    expect(messageContent({ ...send, html: '<b>hi</b>', replyTo: '$q' })).toEqual({
      msgtype: 'm.text',
      body: 'hi',
      format: 'org.matrix.custom.html',
      formatted_body: '<b>hi</b>',
      'm.relates_to': { 'm.in_reply_to': { event_id: '$q' } },
      'org.openmeet.txn_id': 't1',
    });
    expect(messageContent({ ...send, html: '<b>hi</b>', edits: '$o' })).toEqual({
      msgtype: 'm.text',
      body: '* hi',
      format: 'org.matrix.custom.html',
      formatted_body: '* <b>hi</b>',
      'm.new_content': { msgtype: 'm.text', body: 'hi', format: 'org.matrix.custom.html', formatted_body: '<b>hi</b>' },
      'm.relates_to': { rel_type: 'm.replace', event_id: '$o' },
      'org.openmeet.txn_id': 't1',
    });
  });
});

describe('history view', () => {
  const ann = (sender: string, key: string, id: string) => ({
    type: 'm.reaction',
    sender,
    event_id: id,
    content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: '$m', key } },
  });
  it('counts reactions per key by sender, most first, with mine and the event ids', () => {
    expect(reactionCounts([ann('@a', '👍', '$1'), ann('@b', '👍', '$2'), ann('@a', '🎉', '$3'), { type: 'm.reaction' }], '@b')).toEqual([
      { key: '👍', count: 2, mine: true, eventIds: ['$1', '$2'] },
      { key: '🎉', count: 1, mine: false, eventIds: ['$3'] },
    ]);
  });
  it("shows the sender's latest edit under the original id, ignores others' edits, marks deletions", () => {
    const original = { type: 'm.room.message', event_id: '$o', sender: '@a', content: { msgtype: 'm.text', body: 'helo' } };
    const replace = (sender: string) => ({
      unsigned: {
        'm.relations': {
          'm.replace': { event_id: '$e', sender, origin_server_ts: 5, content: { 'm.new_content': { msgtype: 'm.text', body: 'hello' } } },
        },
      },
    });
    expect(shownEvent({ ...original, ...replace('@a') })).toMatchObject({
      event_id: '$o',
      content: { body: 'hello' },
      edited: { eventId: '$e', ts: 5 },
    });
    expect(shownEvent({ ...original, ...replace('@mallory') })).toMatchObject({ content: { body: 'helo' } });
    expect(shownEvent({ ...original, ...replace('@mallory') }).edited).toBeUndefined();
    const redacted = { ...original, content: {}, unsigned: { redacted_because: { sender: '@h', content: { reason: 'spam' } } } };
    expect(shownEvent(redacted)).toMatchObject({ deleted: true, deletedReason: 'spam', deletedBy: '@h' });
  });
  it("spells out a live event's change", () => {
    expect(changeOf({ type: 'm.room.redaction', redacts: '$x', content: { reason: 'r' } })).toEqual({ deleted: { eventId: '$x', reason: 'r' } });
    expect(changeOf({ type: 'm.room.redaction', content: { redacts: '$y' } })).toEqual({ deleted: { eventId: '$y', reason: null } });
    expect(changeOf(ann('@a', '👍', '$1'))).toEqual({ reaction: { eventId: '$m', key: '👍' } });
    expect(changeOf({ type: 'm.room.message', content: { body: 'b', 'm.relates_to': { 'm.in_reply_to': { event_id: '$q' } } } })).toEqual({
      replyTo: { eventId: '$q' },
    });
    expect(changeOf({ type: 'm.room.message', content: { body: 'plain' } })).toBeUndefined();
  });
});

describe('socket frames', () => {
  it('reads delete and react, and send with the rich fields', () => {
    expect(parseClientFrame(JSON.stringify({ type: 'delete', roomId: '!r', eventId: '$e', reason: 'spam' }))).toEqual({
      ok: true,
      frame: { type: 'delete', room: { roomId: '!r' }, eventId: '$e', reason: 'spam' },
    });
    expect(parseClientFrame(JSON.stringify({ type: 'react', kind: 'event', slug: 'x', eventId: '$e', key: '👍', remove: true }))).toEqual({
      ok: true,
      frame: { type: 'react', room: { kind: 'event', slug: 'x' }, eventId: '$e', key: '👍', remove: true },
    });
    expect(parseClientFrame(JSON.stringify({ type: 'send', roomId: '!r', txnId: 't', body: 'b', html: '<b>b</b>', replyTo: '$q' }))).toMatchObject({
      ok: true,
      frame: { html: '<b>b</b>', replyTo: '$q', msgtype: 'm.text' },
    });
  });
  it('names what is wrong', () => {
    const bad = (f: Record<string, unknown>) => parseClientFrame(JSON.stringify(f));
    expect(bad({ type: 'react', roomId: '!r', eventId: '$e' })).toMatchObject({ ok: false, errcode: 'M_BAD_JSON', error: 'missing field "key"' });
    expect(bad({ type: 'react', roomId: '!r', eventId: '$e', key: '👍', remove: 'yes' })).toMatchObject({
      ok: false,
      error: 'field "remove" must be true or false',
    });
    expect(bad({ type: 'delete', roomId: '!r', eventId: 'e' })).toMatchObject({ ok: false, errcode: 'M_INVALID_PARAM' });
    expect(bad({ type: 'delete', roomId: '!r', eventId: '$e', reason: 'x'.repeat(501) })).toMatchObject({
      ok: false,
      error: 'field "reason" is longer than 500 characters',
    });
    expect(bad({ type: 'send', roomId: '!r', txnId: 't', body: 'b', edits: '$o', replyTo: '$q' })).toMatchObject({
      ok: false,
      errcode: 'M_INVALID_PARAM',
      error: expect.stringMatching(/"edits" or "replyTo", not both/),
    });
  });
});
