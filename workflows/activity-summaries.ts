/**
 * One sentence per scheduled activity ("Join event acme/summer-meetup as acme/alice …"), shown in
 * the Temporal UI's event history and timeline instead of a bare type name. Activity *types* stay
 * as registered — saved histories replay against them —; the sentence travels as the
 * ScheduleActivityTask command's user metadata, which replay does not compare. Pure: it runs in
 * the workflow sandbox and derives everything from the activity's arguments (deterministic).
 */
import {
  proxyActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type UntypedActivities,
} from '@temporalio/workflow';

/** The loose shape of activity inputs: each summary reads only the fields it names. */
interface Arg {
  tenant?: string;
  slug?: string;
  kind?: string;
  ref?: { tenant?: string; kind?: string; slug?: string };
  userSlug?: string;
  userId?: string;
  roomId?: string;
  roomKey?: string;
  displayName?: string;
  renew?: boolean;
  staleGeneration?: number;
  upserts?: Record<string, string>;
  removals?: string[];
  members?: Record<string, string>;
  slugs?: string[];
  targets?: { userSlug?: string; to?: string }[];
  rooms?: number;
  clientTxnId?: string;
  eventId?: string;
  typing?: boolean;
  batchId?: string;
  offset?: number;
  users?: unknown[];
  decisions?: unknown[];
  answers?: unknown[];
  notice?: string;
  key?: string;
  readOnly?: boolean;
  step?: string;
  erase?: boolean;
  decisionIds?: string[];
}

const room = (r: Arg['ref'] | Arg | undefined): string => `${r?.kind ?? 'room'} ${r?.tenant ?? '?'}/${r?.slug ?? '?'}`;
const user = (tenant: string | undefined, slug: string | undefined): string => `${tenant ?? '?'}/${slug ?? '?'}`;

function listed(items: string[], max = 4): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Activity type → the sentence for one call, from its first argument. */
export const ACTIVITY_SUMMARIES: Readonly<Record<string, (a: Arg) => string>> = {
  // users
  provisionMatrixUser: (a) =>
    `Create or update Matrix user ${user(a.tenant, a.slug)} (display name ${JSON.stringify(a.displayName ?? '')}) and make sure it has a stored access token`,
  provisionMatrixUsersChunk: (a) =>
    `Create or update Matrix users ${(a.offset ?? 0) + 1}-${(a.offset ?? 0) + (a.users?.length ?? 0)} of batch ${a.tenant ?? '?'}/${a.batchId ?? '?'}, each with a stored access token`,
  ensureMatrixUser: (a) =>
    `Create or update Matrix user ${user(a.tenant, a.slug)} (display name ${JSON.stringify(a.displayName ?? '')})`,
  ensureUserCredential: (a) =>
    a.renew
      ? `Replace the stored access token of ${a.userId ?? user(a.tenant, a.slug)}`
      : `Make sure ${a.userId ?? user(a.tenant, a.slug)} has a stored access token`,
  renewUserToken: (a) =>
    `Log ${user(a.tenant, a.slug)} in again (token generation ${a.staleGeneration ?? '?'} was refused)`,
  reauthUser: (a) => `Re-authenticate ${user(a.tenant, a.slug)} through user-auth:${a.tenant ?? '?'}:${a.slug ?? '?'}`,
  // rooms
  loadRoom: (a) => `Load the stored desired state of ${room(a)}`,
  ensureRoom: (a) => `Find or create the Matrix room of ${room(a.ref)}`,
  applyRoomSettings: (a) =>
    `Bring the name, topic and join rule of ${a.roomId ?? 'the room'} in line with the settings`,
  recordMembers: (a) => {
    const changes = [
      ...Object.entries(a.upserts ?? {}).map(([s, r]) => `+${s} (${r})`),
      ...(a.removals ?? []).map((s) => `−${s}`),
    ];
    return `Record the desired members of ${room(a.ref)}: ${listed(changes)}`;
  },
  applyMembers: (a) => {
    const changes = (a.targets ?? []).map((t) => `${t.to === 'leave' ? '−' : '+'}${t.userSlug}`);
    return `Bring the members of ${room(a.ref)} in line, then its power levels: ${listed(changes)}`;
  },
  prepareMember: (a) =>
    `Get ${user(a.ref?.tenant, a.userSlug)} ready to join ${room(a.ref)} (provision if needed, invite)`,
  joinAsMember: (a) => `Join ${room(a.ref)} as ${user(a.ref?.tenant, a.userSlug)}, with their own token`,
  ensureMemberJoined: (a) => `Bring ${user(a.ref?.tenant, a.userSlug)} into ${room(a.ref)}`,
  ensureMemberRemoved: (a) =>
    `Remove ${a.userSlug ? user(a.ref?.tenant, a.userSlug) : (a.userId ?? '?')} from ${room(a.ref)}`,
  undesiredMembers: (a) => `Find managed users in ${room(a.ref)} who should not be there`,
  listedAbsent: (a) => `Check that ${a.slugs?.length ?? 0} listed members are still in ${room(a.ref)}`,
  syncPowerLevels: (a) =>
    `Set the power levels of ${room(a.ref)} from the roles of its ${Object.keys(a.members ?? {}).length} members${a.readOnly === undefined ? '' : a.readOnly ? ', read-only for members' : ', sending open to members'}`,
  recordMutes: (a) => {
    const m = Object.entries((a as { mutes?: Record<string, unknown> }).mutes ?? {}).map(([s, v]) => (v ? `mute ${s}` : `unmute ${s}`));
    return `Record mutes of ${room(a.ref)}: ${listed(m)}`;
  },
  archiveRoom: (a) => `Archive ${room(a.ref)}: everyone but the bot leaves`,
  claimJoinRequests: (a) =>
    `Record the platform's decision on ${a.decisions?.length ?? 0} join requests to ${room(a.ref)} (each decided once)`,
  releaseJoinRequests: (a) =>
    `Put ${a.decisionIds?.length ?? 0} join requests to ${room(a.ref)} back to pending: their decision was not carried out`,
  answerJoinRequests: (a) =>
    `Answer ${a.answers?.length ?? 0} knocks on ${room(a.ref)}: invite the approved, kick the refused`,
  // an event's time (decision 0053)
  eventTimerPolicy: (a) => `Read the event timer policy of tenant ${typeof a === 'string' ? a : (a.tenant ?? '?')}`,
  recordEventTime: (a) => `Record the event time and timers of ${room(a.ref)}`,
  postEventNotice: (a) => `Post the ${a.notice ?? '?'} notice (${a.key ?? '?'}) in ${room(a.ref)} as the bot`,
  reopenRoom: (a) => `Mark ${room(a.ref)} active again and read its desired members`,
  syncGroupSpace: (a) => `Bring the space of ${room(a.ref)} in line: members, levels, bans, its event rooms as children`,
  syncEventGroup: (a) => `Place ${room(a.ref)} in its group's space, with its join rule and the group's bans`,
  syncAliases: (a) =>
    `Point the aliases of ${room(a.ref)} at its current slug (old ones kept for a while, then removed)`,
  // messages, typing and receipts as the user (never the message text: it is the user's, not the operator's)
  sendMessageAsUser: (a) => `Send message ${a.clientTxnId ?? '?'} of ${user(a.tenant, a.userSlug)} to ${room(a)}`,
  setTypingAsUser: (a) =>
    `${a.typing ? 'Show' : 'Stop showing'} ${user(a.tenant, a.userSlug)} typing in ${a.roomId ?? 'the room'}`,
  sendReceiptAsUser: (a) =>
    `Mark ${a.eventId ?? '?'} read for ${user(a.tenant, a.userSlug)} in ${a.roomId ?? 'the room'}`,
  // reconciliation
  listActiveRooms: (a) => `List the active rooms of tenant ${typeof a === 'string' ? a : (a.tenant ?? '?')}`,
  reconcileRoom: (a) => `Ask the workflow of ${room(a)} to repair drift`,
  attemptWebhookDelivery: (a) => `Deliver the next webhook delivery of ${a.tenant ?? '?'} for ${a.roomKey ?? '?'}`,
  recordReconcileRun: (a) => `Record what reconciling tenant ${a.tenant ?? '?'} fixed (${a.rooms ?? 0} rooms)`,
  // the audit trail (its argument is the list of entries)
  recordAudit: (a) => {
    const entries = Array.isArray(a) ? (a as { operation?: string }[]) : [];
    return `Record ${entries.length} audit entr${entries.length === 1 ? 'y' : 'ies'}: ${listed([...new Set(entries.map((e) => e.operation ?? '?'))])}`;
  },
  // offboarding (decision 0056)
  offboardBegin: (a) => `Begin offboarding ${user(a.tenant, a.slug)}${a.erase ? ', with erasure' : ''}`,
  offboardLock: (a) => `Lock the account of ${user(a.tenant, a.slug)} and forget its stored token`,
  offboardListRooms: (a) => `List the managed rooms of ${user(a.tenant, a.slug)}`,
  offboardRemoveFromRoom: (a) => `Ask the workflow of ${room(a.ref)} to remove ${a.userSlug ?? '?'}`,
  offboardDeactivate: (a) => `Deactivate ${a.userId ?? '?'}${a.erase ? ' and erase it' : ''}`,
  offboardDeleteUploads: (a) => `Delete the files ${a.userId ?? '?'} uploaded to the homeserver`,
  offboardPurge: (a) => `Delete what the service keeps about ${user(a.tenant, a.slug)}`,
  offboardRestore: (a) => `Restore the account of ${user(a.tenant, a.slug)} (offboarding cancelled)`,
  offboardRecord: (a) => `Record offboarding step "${a.step ?? '?'}"`,
};

const MAX_SUMMARY = 200;

/** `ensureMemberRemoved` → `Ensure member removed`: the fallback for an activity without a sentence. */
export function humanizeActivityType(type: string): string {
  const words = type.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The one-line summary of calling activity `type` with `args`. */
export function summarizeActivity(type: string, args: readonly unknown[]): string {
  const describe = ACTIVITY_SUMMARIES[type];
  let text = humanizeActivityType(type);
  if (describe) {
    try {
      text = describe((args[0] ?? {}) as Arg);
    } catch {
      // An unexpected argument shape must never fail the workflow: keep the plain name.
    }
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
}

/**
 * `proxyActivities` whose every call carries its sentence as `summary` (the per-call form of the
 * option). Same activity types, options, timeouts and retries as the plain proxy.
 */
export function proxyActivitiesWithSummaries<A = UntypedActivities>(options: ActivityOptions): ActivityInterfaceFor<A> {
  return new Proxy({} as ActivityInterfaceFor<A>, {
    get(_, type) {
      if (typeof type !== 'string') return undefined;
      const withSummary = (args: readonly unknown[], extra: ActivityOptions = {}) =>
        proxyActivities<UntypedActivities>({ ...options, summary: summarizeActivity(type, args), ...extra })[type]!(
          ...args,
        );
      const call = (...args: unknown[]) => withSummary(args);
      call.executeWithOptions = (extra: ActivityOptions, args: unknown[]) => withSummary(args, extra);
      return call;
    },
  });
}
