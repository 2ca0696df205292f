/**
 * What the Temporal UI shows at the top of each of our workflows: a one-line summary and a few
 * lines of details (Temporal markdown) saying what the workflow is for, where its state lives and
 * how an operator looks closer. Set once per run, at start (starters/starters.ts).
 */
import { roomAliasLocalpart } from '../vocabulary/ids.js';
import type { RoomRef } from '../vocabulary/contract.js';

export interface StartMetadata {
  staticSummary: string;
  staticDetails: string;
}

/** The user entity `user:{tenant}:{slug}`. */
export function userStartMetadata(tenant: string, slug: string, userId: string): StartMetadata {
  return {
    staticSummary: `Provision Matrix user ${userId} for ${tenant}/${slug}`,
    staticDetails: [
      `**Platform user** \`${tenant}/${slug}\` → **Matrix user** \`${userId}\``,
      '',
      'Applies provisioning requests (`provisionUser` updates) one at a time: the account, its display name, a stored access token.',
      'Current state: query `userState`. Closes after 10 quiet minutes; the state stays in PostgreSQL (`matrix_users`).',
      '',
      `Look closer: \`npm run cli -- user inspect ${slug} --tenant ${tenant}\``,
    ].join('\n'),
  };
}

/** The re-auth workflow `user-auth:{tenant}:{slug}`. */
export function reauthStartMetadata(
  tenant: string,
  slug: string,
  userId: string,
  staleGeneration: number,
): StartMetadata {
  return {
    staticSummary: `Re-authenticate ${userId} (token generation ${staleGeneration} was refused)`,
    staticDetails: [
      `**Platform user** \`${tenant}/${slug}\` → **Matrix user** \`${userId}\``,
      '',
      `The homeserver refused token generation ${staleGeneration}. This run gets a new token for the same Matrix user;`,
      'every operation that hit the dead token waits for it, then tries again.',
      '',
      `Look closer: \`npm run cli -- user inspect ${slug} --tenant ${tenant}\``,
    ].join('\n'),
  };
}

/** The room entity `room:{tenant}:{kind}:{slug}`. */
export function roomStartMetadata(ref: RoomRef, userPrefix: string, serverName: string): StartMetadata {
  const alias = `#${roomAliasLocalpart(userPrefix, ref.tenant, ref.kind, ref.slug)}:${serverName}`;
  const target = `${ref.kind}/${ref.slug} --tenant ${ref.tenant}`;
  return {
    staticSummary: `Matrix room of ${ref.kind} ${ref.tenant}/${ref.slug}`,
    staticDetails: [
      `**Room** of ${ref.kind} \`${ref.tenant}/${ref.slug}\`, alias \`${alias}\``,
      '',
      'Folds changes (`roomChange` updates: ensure, addMember, removeMember, archive, reconcile) in arrival order, then',
      'brings the homeserver to that state: room, membership, power levels. Current state: query `roomState`.',
      'Desired members live in PostgreSQL (`room_members`).',
      '',
      `Desired vs actual: \`npm run cli -- room inspect ${target}\`; repair: \`npm run cli -- room reconcile ${target}\``,
    ].join('\n'),
  };
}

/** The runs of the tenant's reconciliation schedule `reconcile:{tenant}`. */
export function reconcileStartMetadata(tenant: string, everyMinutes: number): StartMetadata {
  return {
    staticSummary: `Reconcile the Matrix rooms of ${tenant}`,
    staticDetails: [
      `**Tenant** \`${tenant}\`, every ${everyMinutes} minutes (schedule \`reconcile:${tenant}\`)`,
      '',
      'Asks the workflow of every active room for a `reconcile` change: members who left are joined again, managed users',
      'who should not be there are removed, power levels are set back. What was fixed: the result, and `reconcile_runs`.',
    ].join('\n'),
  };
}
