import { describe, expect, it } from '@jest/globals';
import { matrixTxnId } from '../../activities/messages.js';
import { transactionEvents } from '../../api/relay/appservice.js';
import { ephemeralWorkflowId, messageWorkflowId, parseWorkflowId } from '../../workflows/ids.js';

describe('message workflow ids', () => {
  it('are msg:{tenant}:{user}:{client txn id}, one per user, and GET /v1/operations can parse them', () => {
    expect(messageWorkflowId('acme', 'alice', '3f1c-9a')).toBe('msg:acme:alice:3f1c-9a');
    expect(messageWorkflowId('acme', 'bob', '3f1c-9a')).not.toBe(messageWorkflowId('acme', 'alice', '3f1c-9a'));
    expect(parseWorkflowId('msg:acme:Al_ice.1:3f1c-9a')).toEqual({
      kind: 'msg',
      tenant: 'acme',
      slug: '3f1c-9a',
      userSlug: 'Al_ice.1',
    });
    // Sends started before ids were per user still answer on /v1/operations.
    expect(parseWorkflowId('msg:acme:3f1c-9a')).toEqual({ kind: 'msg', tenant: 'acme', slug: '3f1c-9a' });
    expect(parseWorkflowId('msg:acme:alice:has space')).toBeNull();
    expect(parseWorkflowId('msg:acme:-alice:x')).toBeNull();
    expect(parseWorkflowId('msg:ACME:alice:x')).toBeNull();
    expect(parseWorkflowId('msg:acme:a:b:c')).toBeNull();
  });

  it('ephemeral:{tenant}:{user}:{kind}:{room slug}, which GET /v1/operations parses too', () => {
    expect(ephemeralWorkflowId('acme', 'alice', 'dm', 'alice~bob')).toBe('ephemeral:acme:alice:dm:alice~bob');
    expect(parseWorkflowId('ephemeral:acme:alice:dm:alice~bob')).toEqual({
      kind: 'ephemeral',
      tenant: 'acme',
      slug: 'alice~bob',
      roomKind: 'dm',
      userSlug: 'alice',
    });
    expect(parseWorkflowId('ephemeral:acme:alice:dm:bob~alice')).toBeNull();
    expect(parseWorkflowId('ephemeral:acme:alice:lobby:x')).toBeNull();
  });

  it('reconcile:{tenant} is the schedule, and a run it started carries the scheduled time', () => {
    expect(parseWorkflowId('reconcile:acme-eu')).toEqual({ kind: 'reconcile', tenant: 'acme-eu', slug: '' });
    expect(parseWorkflowId('reconcile:acme-eu-2026-12-05T18:15:00Z')).toEqual({
      kind: 'reconcile',
      tenant: 'acme-eu',
      slug: '2026-12-05T18:15:00Z',
    });
    expect(parseWorkflowId('reconcile:acme:x')).toBeNull();
  });

  it('give one Matrix transaction id per workflow id: a retry re-sends with the same one, another user another', () => {
    expect(matrixTxnId('msg:acme:alice:t1')).toBe(matrixTxnId('msg:acme:alice:t1'));
    expect(matrixTxnId('msg:acme:alice:t1')).not.toBe(matrixTxnId('msg:acme:alice:t2'));
    expect(matrixTxnId('msg:acme:alice:t1')).not.toBe(matrixTxnId('msg:acme:bob:t1'));
    expect(matrixTxnId('msg:acme:alice:t1')).toMatch(/^om1\.[A-Za-z0-9_-]{43}$/);
  });
});

describe('transactionEvents', () => {
  it('keeps room timeline events with ids and room ephemeral events, from the stable or the unstable key', () => {
    const timeline = { type: 'm.room.message', event_id: '$1', room_id: '!r', content: {} };
    const typing = { type: 'm.typing', room_id: '!r', content: { user_ids: [] } };
    expect(
      transactionEvents({ events: [timeline, { type: 'x' }], ephemeral: [typing, { type: 'm.presence' }] }),
    ).toEqual({
      events: [
        { ephemeral: false, event: timeline },
        { ephemeral: true, event: typing },
      ],
      skipped: 2,
    });
    expect(transactionEvents({ events: [], 'de.sorunome.msc2409.ephemeral': [typing] }).events).toEqual([
      { ephemeral: true, event: typing },
    ]);
  });
});
