/** Room changes checked before they are accepted into the room workflow's history (the Update's validator). */
import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../vocabulary/failures.js';
import { describeValue } from '../vocabulary/describe.js';
import { memberChangeProblem, settingsProblem } from '../vocabulary/room-rules.js';
import { muteProblem } from '../vocabulary/moderation.js';
import { memberListProblem } from '../vocabulary/member-list.js';
import { slugProblem, type RoomKind } from '../vocabulary/ids.js';
import type { RoomChangeRequest } from '../vocabulary/contract.js';
import { isAuditOrigin } from '../vocabulary/audit.js';
import { joinDecisionProblem } from '../vocabulary/join-requests.js';
import { lifecycleProblem } from './room-lifecycle.js';
import { spaceChangeProblem } from '../vocabulary/spaces.js';

const NAME_MAX = 255;

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidChange, message, nonRetryable: true });
}

/** Rejects malformed changes before they are accepted into history. */
export function validateRoomChange(kind: RoomKind, c: RoomChangeRequest): void {
  if (!c || typeof c !== 'object') throw invalid('a change must be an object');
  if (c.origin !== undefined && !isAuditOrigin(c.origin)) throw invalid('origin must be {subject, requestId?}');
  switch (c.type) {
    case 'ensure': {
      const s = c.settings ?? {};
      if (s.name !== undefined && (typeof s.name !== 'string' || s.name.length > NAME_MAX)) throw invalid('name must be a string of at most 255 characters');
      if (s.topic !== undefined && (typeof s.topic !== 'string' || s.topic.length > 4096)) throw invalid('topic must be a string of at most 4096 characters');
      if (s.visibility !== undefined && s.visibility !== 'public' && s.visibility !== 'private') throw invalid('visibility must be public or private');
      if (s.encrypted !== undefined && typeof s.encrypted !== 'boolean') throw invalid('encryption can only be asked for DMs');
      if (s.prune !== undefined && typeof s.prune !== 'boolean') throw invalid('prune must be true or false');
      if (s.knock !== undefined && typeof s.knock !== 'boolean') throw invalid('knock must be true or false');
      const a = c.adopt as Record<string, unknown> | undefined;
      if (a !== undefined && (typeof a !== 'object' || a === null || typeof (a.roomId ?? a.alias) !== 'string'))
        throw invalid('adopt must name the room by roomId or alias');
      const p = settingsProblem(kind, s) ?? lifecycleProblem(kind, c) ?? spaceChangeProblem(kind, c);
      if (p) throw invalid(p);
      return;
    }
    case 'ban':
    case 'unban': {
      const p = spaceChangeProblem(kind, c);
      if (p) throw invalid(p);
      return;
    }
    case 'renameMember': {
      const p = slugProblem(String(c.userSlug ?? '')) ?? slugProblem(String(c.newSlug ?? ''), 'newSlug');
      if (p) throw invalid(p);
      return;
    }
    case 'addMember':
    case 'removeMember': {
      const p = memberChangeProblem(kind, String(c.userSlug ?? ''), c.type === 'addMember' ? String(c.role) : undefined);
      if (p) throw invalid(p);
      const keep: unknown = c.type === 'addMember' ? c.keepRoles : undefined;
      if (keep !== undefined && !(Array.isArray(keep) && keep.every((r) => typeof r === 'string')))
        throw invalid('keepRoles must be a list of roles');
      return;
    }
    case 'setMembers': {
      const p = memberListProblem(kind, c.members, true);
      if (p) throw invalid(p);
      return;
    }
    case 'rename': {
      if (kind === 'dm') throw invalid("a DM's slug is its two users: it is not renamed");
      const p = slugProblem(String(c.newSlug ?? ''), 'newSlug');
      if (p) throw invalid(p);
      return;
    }
    case 'decideRequest': {
      const p = joinDecisionProblem(kind, c);
      if (p) throw invalid(p);
      return;
    }
    case 'mute':
    case 'unmute': {
      const p = muteProblem(kind, c.userSlug, c.type === 'mute' ? c.durationSeconds : 1);
      if (p) throw invalid(p);
      return;
    }
    case 'cancel':
    case 'unarchive': {
      const p = lifecycleProblem(kind, c);
      if (p) throw invalid(p);
      return;
    }
    case 'archive':
    case 'reconcile':
      return;
    default:
      throw invalid(`unknown change type ${describeValue((c as { type?: unknown }).type)}`);
  }
}
