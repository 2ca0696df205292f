/**
 * One set of room rules (issue #16): the API and the room workflow's update validator answer a
 * change the same way, because both read vocabulary/room-rules.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { addMemberFrom, removeMemberFrom, settingsFrom } from '../../api/room-input.js';
import { validateRoomChange } from '../../workflows/room.js';
import { memberChangeProblem, roomKindMessage, settingsProblem } from '../../vocabulary/room-rules.js';
import type { RoomChangeRequest } from '../../vocabulary/contract.js';
import type { RoomKind } from '../../vocabulary/ids.js';

/** What the API says of a change, and what the workflow's validator says of the same change. */
function both(kind: RoomKind, api: () => unknown, change: RoomChangeRequest): [string | null, string | null] {
  const said = (f: () => unknown): string | null => {
    try {
      f();
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
  return [said(api), said(() => validateRoomChange(kind, change))];
}

describe('the room rules', () => {
  it('say what a kind does not allow', () => {
    expect(settingsProblem('event', { encrypted: true })).toBe('encryption can only be asked for DMs');
    expect(settingsProblem('dm', { visibility: 'public' })).toBe('a DM cannot be public');
    expect(settingsProblem('dm', { encrypted: true, visibility: 'private' })).toBeNull();
    expect(memberChangeProblem('dm', 'alice')).toMatch(/^a DM is between exactly its two users/);
    expect(memberChangeProblem('event', 'alice', 'owner')).toMatch(/owner/);
    expect(memberChangeProblem('group', 'alice', 'owner')).toBeNull();
    expect(roomKindMessage('x'.repeat(500))).toMatch(
      /^room kind must be event, group or dm, not "x{64}"… \(500 characters\)$/,
    );
  });

  it.each([
    [
      'a public DM',
      'dm',
      () => settingsFrom('dm', { visibility: 'public' }),
      { type: 'ensure', settings: { visibility: 'public' } },
    ],
    [
      'an encrypted event',
      'event',
      () => settingsFrom('event', { encrypted: true }),
      { type: 'ensure', settings: { encrypted: true } },
    ],
    [
      'a member added to a DM',
      'dm',
      () => addMemberFrom('dm', 'bob', {}),
      { type: 'addMember', userSlug: 'bob', role: 'member' },
    ],
    [
      'a member removed from a DM',
      'dm',
      () => removeMemberFrom('dm', 'bob'),
      { type: 'removeMember', userSlug: 'bob' },
    ],
    [
      'a role the kind does not know',
      'event',
      () => addMemberFrom('event', 'bob', { role: 'owner' }),
      { type: 'addMember', userSlug: 'bob', role: 'owner' },
    ],
    [
      'a bad slug',
      'group',
      () => addMemberFrom('group', '-bob', {}),
      { type: 'addMember', userSlug: '-bob', role: 'member' },
    ],
  ] as [string, RoomKind, () => unknown, RoomChangeRequest][])(
    '%s is refused by the API and the workflow with one message',
    (_, kind, api, change) => {
      const [fromApi, fromWorkflow] = both(kind, api, change);
      expect(fromApi).not.toBeNull();
      expect(fromWorkflow).toBe(fromApi);
    },
  );
});
