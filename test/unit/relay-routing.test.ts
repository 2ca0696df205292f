import { describe, expect, it } from '@jest/globals';
import type { LogRow } from '../../adapters/store/events.js';
import { route, type Audience } from '../../api/relay/routing.js';

const ME = '@om_acme_alice:hs';
let seq = 0;
function row(roomId: string, type: string, extra: Partial<LogRow> = {}, content: Record<string, unknown> = {}): LogRow {
  seq += 1;
  return {
    seq,
    roomId,
    roomSeq: seq,
    ephemeral: false,
    type,
    sender: '@x:hs',
    stateKey: null,
    event: { type, content },
    tenant: 'acme',
    kind: 'event',
    slug: roomId,
    ...extra,
  };
}
const member = (roomId: string, who: string, membership: string, tenant = 'acme') =>
  row(roomId, 'm.room.member', { stateKey: who, tenant }, { membership });

describe('route', () => {
  it('delivers rooms the user is joined to, from the join on and up to the removal, which itself is delivered', () => {
    const a: Audience = { userId: ME, tenant: 'acme', joined: new Set() };
    const steps = [
      [row('!r', 'm.room.message'), false],
      [member('!r', ME, 'invite'), true],
      [row('!r', 'm.room.message'), false],
      [member('!r', ME, 'join'), true],
      [row('!r', 'm.room.message'), true],
      [member('!r', '@om_acme_bob:hs', 'join'), true],
      [member('!r', ME, 'leave'), true],
      [row('!r', 'm.room.message'), false],
      [row('!r', 'm.typing', { ephemeral: true }), false],
    ] as const;
    expect(steps.map(([r]) => route(a, r, false))).toEqual(steps.map(([, expected]) => expected));
    expect(a.joined.size).toBe(0);
  });

  it("never delivers another tenant's room, even to a member", () => {
    const a: Audience = { userId: ME, tenant: 'acme', joined: new Set(['!theirs']) };
    expect(route(a, row('!theirs', 'm.room.message', { tenant: 'globex' }), false)).toBe(false);
    expect(route(a, row('!unmanaged', 'm.room.message', { tenant: null }), false)).toBe(false);
    expect(route(a, member('!theirs', ME, 'leave', 'globex'), false)).toBe(false);
    expect(a.joined.has('!theirs')).toBe(false);
  });

  it('relays typing live but not on replay; receipts both ways', () => {
    const a: Audience = { userId: ME, tenant: 'acme', joined: new Set(['!r']) };
    const typing = row('!r', 'm.typing', { ephemeral: true });
    const receipt = row('!r', 'm.receipt', { ephemeral: true });
    expect([route(a, typing, false), route(a, typing, true), route(a, receipt, true)]).toEqual([true, false, true]);
  });
});
