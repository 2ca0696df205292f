/**
 * The room workflow's batch, without the homeserver: folding a batch of changes into the desired
 * state (decision 0005) and sharing what the homeserver work did among the changes' callers. Pure
 * (no activities, timers or patches), so it is unit-tested directly and cannot alter the commands
 * the workflow issues; the workflow and workflows/room-homeserver.ts do the I/O around it.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { PowerLevelChanges } from '../activities/rooms/types.js';
import { FailureType } from '../vocabulary/failures.js';
import type { RoomKind } from '../vocabulary/ids.js';
import type { RoomChangeRequest, RoomState } from '../vocabulary/contract.js';
import type { MemberListOutcome } from '../vocabulary/member-list.js';
import { addTarget, foldMemberList, listOutcome, removeTarget, type ListDiff } from './member-list-fold.js';
import { renameMember } from './room-renames.js';
import { foldDecision } from './join-request-fold.js';
import type { JoinClaim } from '../vocabulary/join-requests.js';

export { followRenames } from './room-renames.js';
import { foldMute } from './mute-fold.js';
import { reopen } from './room-lifecycle.js';
import { emptyFold, foldEnsure } from './fold-ensure.js';
import type { BatchFold } from './batch-fold.js';
import { bannedRefusal, foldBan, foldGroup, withoutBanned } from './space-fold.js';

export type { BatchFold, Target } from './batch-fold.js';

/** What the homeserver work of one batch did; filled in as it goes (a failure keeps what was done). */
export interface BatchEffects {
  /** Room-level actions (found or created, renamed): reported to the batch's first live change. */
  roomActions: string[];
  archiveActions: string[];
  /** What bringing the aliases in line did: reported to the batch's renames. */
  aliasActions: string[];
  powerLevels: PowerLevelChanges;
  /** Per member slug (or Matrix id, for drift removed by reconciliation): actions or a failure. */
  perUser: Map<string, MemberResult>;
  /** Per Matrix id: what answering their knock did (decision 0055). */
  answers: Map<string, MemberResult>;
  /** A failure of the batch as a whole: every live change of the batch reports it. */
  batchError?: ApplicationFailure;
  /** The aliases could not be brought along: the renames (and a reconcile) report it, member changes do not. */
  aliasError?: ApplicationFailure;
}

export interface MemberResult {
  actions: string[];
  error?: ApplicationFailure;
}

/** One caller's answer: the actions done for their change (and a list's changes), or why it failed. */
export type ChangeOutcome =
  | { ok: true; actions: string[]; members?: MemberListOutcome }
  | { ok: false; failure: ApplicationFailure };

/** Nothing done yet. */
export function emptyEffects(): BatchEffects {
  return {
    roomActions: [],
    archiveActions: [],
    aliasActions: [],
    powerLevels: { bySlug: {}, other: [] },
    perUser: new Map(),
    answers: new Map(),
  };
}

/**
 * Folds the changes, strictly in arrival order, into `state` (its settings and members are
 * updated in place) and returns what the homeserver must be brought to. Once the room is archived,
 * or an archive is folded, every later change is refused with RoomArchived.
 */
export function foldBatch(state: RoomState, changes: RoomChangeRequest[], claims?: Map<number, JoinClaim>): BatchFold {
  const fold = emptyFold();
  const before = { name: state.settings.name, topic: state.settings.topic, knock: state.settings.knock };
  for (const c of changes) {
    if (c.type === 'renameMember') {
      // Never refused, archived or not: the user's rename is already done in the database.
      fold.refusals.push(undefined);
      renameMember(state, fold, c.userSlug, c.newSlug);
      continue;
    }
    fold.onlyRenames = false;
    if (c.type === 'unarchive' && reopen(state, fold)) continue;
    if (state.archived || fold.archive) {
      fold.refusals.push(
        ApplicationFailure.create({
          type: FailureType.RoomArchived,
          message: 'the room is archived',
          nonRetryable: true,
        }),
      );
      continue;
    }
    if (c.type === 'mute' || c.type === 'unmute') {
      fold.membersOnly = false;
      fold.refusals.push(foldMute(state, fold, c));
      continue;
    }
    const banned = bannedRefusal(state, c);
    fold.refusals.push(banned);
    if (banned) continue;
    if (c.type === 'decideRequest') {
      const i = fold.refusals.length - 1;
      fold.refusals[i] = foldDecision(state, fold, c, claims?.get(i));
      continue;
    }
    if (c.type !== 'addMember' && c.type !== 'removeMember' && c.type !== 'setMembers') fold.membersOnly = false;
    if (c.type === 'ensure') {
      foldEnsure(state, fold, c);
      foldGroup(state, fold, c.group);
    } else if (foldBan(state, fold, c)) {
      continue;
    } else if (c.type === 'addMember' || c.type === 'removeMember') {
      if (c.type === 'addMember') {
        // A roleless add of someone holding a role to keep (the platform re-announcing a host) keeps it.
        const current = state.members[c.userSlug];
        const role = current !== undefined && Array.isArray(c.keepRoles) && c.keepRoles.includes(current) ? current : c.role;
        addTarget(state, fold, c.userSlug, role, c.displayName);
      } else {
        removeTarget(state, fold, c.userSlug);
      }
    } else if (c.type === 'setMembers') {
      fold.lists.set(fold.refusals.length - 1, foldMemberList(state, fold, withoutBanned(state, c.members)));
    } else if (c.type === 'archive') {
      fold.archive = true;
    } else if (c.type === 'rename') {
      fold.aliases = true;
    } else if (c.type === 'cancel') {
      Object.assign(fold, { archive: true, cancel: { reason: c.reason } });
    } else if (c.type !== 'unarchive') {
      fold.reconcile = true;
    }
  }
  fold.settingsChanged =
    before.name !== state.settings.name || before.topic !== state.settings.topic || before.knock !== state.settings.knock;
  return fold;
}

/** The member slug a change brings in or takes out (an approved request of one of ours is an add). */
const memberOf = (c: RoomChangeRequest): string | null =>
  c.type === 'addMember' || c.type === 'removeMember' || c.type === 'mute' || c.type === 'unmute' || c.type === 'ban' || c.type === 'unban'
    ? c.userSlug
    : c.type === 'decideRequest' && c.approve && c.userSlug
      ? c.userSlug
      : null;

/** The members a change touches: its member, or every member a list changed or checked. */
const touchedBy = (c: RoomChangeRequest, diff: ListDiff | undefined): string[] => {
  const slug = memberOf(c);
  if (slug !== null) return [slug];
  if (!diff) return [];
  return [...diff.added, ...diff.removed, ...diff.roleChanged.map((r) => r.userSlug), ...diff.unchanged];
};

/**
 * Every caller learns the outcome of its own change: a refused change its refusal, a live one the
 * batch's failure or its member's. Room-level actions belong to the first live change (later ones
 * found them done); a member's actions and power levels to the last change that touched that
 * member; the archive's to the archive; the aliases' to every rename. A reconcile, and a DM's ensure (which brings both users
 * in), report everything the batch did.
 */
export function distributeOutcomes(
  kind: RoomKind,
  changes: RoomChangeRequest[],
  fold: BatchFold,
  effects: BatchEffects,
): ChangeOutcome[] {
  const lastTouch = new Map<string, number>();
  changes.forEach((c, i) => {
    for (const slug of touchedBy(c, fold.lists.get(i))) lastTouch.set(slug, i);
  });
  const firstLive = fold.refusals.findIndex((r) => r === undefined);
  const { roomActions, perUser, powerLevels, archiveActions, aliasActions } = effects;
  const everything = (): string[] => [
    ...roomActions,
    ...[...perUser.values()].flatMap((v) => v.actions),
    ...Object.values(powerLevels.bySlug).flat(),
    ...powerLevels.other,
    ...aliasActions,
    ...archiveActions,
  ];
  return changes.map((c, i): ChangeOutcome => {
    const slug = memberOf(c);
    const mine = slug !== null ? perUser.get(slug) : c.type === 'decideRequest' ? effects.answers.get(c.userId) : undefined;
    const aliasFailure = c.type === 'rename' || c.type === 'reconcile' ? effects.aliasError : undefined;
    const failure = fold.refusals[i] ?? effects.batchError ?? mine?.error ?? aliasFailure;
    if (failure) return { ok: false, failure };
    if (c.type === 'reconcile' || c.type === 'unarchive' || (c.type === 'ensure' && kind === 'dm')) return { ok: true, actions: everything() };
    const diff = fold.lists.get(i);
    if (diff) return listOutcome(diff, i === firstLive ? roomActions : [], effects, (s) => lastTouch.get(s) === i);
    const actions = i === firstLive ? [...roomActions] : [];
    if (slug !== null && lastTouch.get(slug) === i)
      actions.push(...(mine?.actions ?? []), ...(powerLevels.bySlug[slug] ?? []));
    if (c.type === 'archive' || c.type === 'cancel') actions.push(...archiveActions);
    if (c.type === 'decideRequest' && slug === null) actions.push(...(mine?.actions ?? []));
    if (c.type === 'rename') actions.push(...aliasActions);
    return { ok: true, actions };
  });
}
