/**
 * Every activity the worker registers reads as a sentence in the Temporal UI, built from its
 * arguments; an unexpected argument never fails the workflow (it falls back to the type name).
 */
import { describe, expect, it } from '@jest/globals';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { ACTIVITY_SUMMARIES, humanizeActivityType, summarizeActivity } from '../../workflows/activity-summaries.js';

const ref = { tenant: 'acme', kind: 'event', slug: 'summer-meetup' };

describe('activity summaries', () => {
  it('has a sentence of its own for every registered activity', () => {
    // The factory only closes over its dependencies, so listing the activities needs none.
    const registered = Object.keys(createActivities({} as ActivityDeps)).sort();
    expect(registered.length).toBeGreaterThan(10);
    expect(registered.filter((name) => !(name in ACTIVITY_SUMMARIES))).toEqual([]);
  });

  it('says what each call does, with whom and where', () => {
    expect(summarizeActivity('ensureMatrixUser', [{ tenant: 'acme', slug: 'alice', displayName: 'Alice' }])).toBe(
      'Create or update Matrix user acme/alice (display name "Alice")',
    );
    expect(summarizeActivity('provisionMatrixUser', [{ tenant: 'acme', slug: 'alice', displayName: 'Alice' }])).toBe(
      'Create or update Matrix user acme/alice (display name "Alice") and make sure it has a stored access token',
    );
    expect(summarizeActivity('joinAsMember', [{ ref, roomId: '!r:x', userSlug: 'bob' }])).toBe(
      'Join event acme/summer-meetup as acme/bob, with their own token',
    );
    expect(
      summarizeActivity('recordMembers', [
        { ref, upserts: { a: 'host', b: 'member', c: 'member', d: 'member' }, removals: ['e', 'f'] },
      ]),
    ).toBe(
      'Record the desired members of event acme/summer-meetup: +a (host), +b (member), +c (member), +d (member) and 2 more',
    );
    expect(summarizeActivity('ensureMemberRemoved', [{ ref, roomId: '!r:x', userId: '@someone:x' }])).toBe(
      'Remove @someone:x from event acme/summer-meetup',
    );
    expect(summarizeActivity('listActiveRooms', ['acme'])).toBe('List the active rooms of tenant acme');
    expect(summarizeActivity('reconcileRoom', [ref])).toBe(
      'Ask the workflow of event acme/summer-meetup to repair drift',
    );
    const message = {
      tenant: 'acme',
      userSlug: 'bob',
      kind: 'group',
      slug: 'g',
      roomId: '!r:x',
      clientTxnId: 't1',
      msgtype: 'm.text',
      body: 'secret plans',
    };
    expect(summarizeActivity('sendMessageAsUser', [message])).toBe('Send message t1 of acme/bob to group acme/g');
  });

  it('falls back to the type name as words, and stays one bounded line', () => {
    expect(humanizeActivityType('ensureMemberRemoved')).toBe('Ensure member removed');
    expect(summarizeActivity('someNewActivity', [{}])).toBe('Some new activity');
    // An argument the sentence cannot be built from (JSON.stringify throws on a BigInt).
    expect(summarizeActivity('ensureMatrixUser', [{ tenant: 'acme', slug: 'a', displayName: 10n }])).toBe(
      'Ensure matrix user',
    );
    const long = summarizeActivity('ensureMatrixUser', [
      { tenant: 'acme', slug: 'a', displayName: `x\n${'y'.repeat(500)}` },
    ]);
    expect(long).toHaveLength(200);
    expect(long).not.toContain('\n');
    expect(long.endsWith('…')).toBe(true);
  });
});
