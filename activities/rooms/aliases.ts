/**
 * A renamed room's aliases (decision 0031): the current slug's alias in the directory and
 * canonical, the old slugs' aliases kept as alternatives for ROOM_OLD_ALIAS_KEEP_SECONDS, then
 * taken off the homeserver. PostgreSQL (room_slugs) says where the entity's slugs stand; every
 * call brings the homeserver there, so running it again, or late, does no harm.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../vocabulary/failures.js';
import type { RoomRef } from '../../vocabulary/contract.js';
import type { CanonicalAlias } from '../../adapters/matrix/aliases.js';
import { matrixCall } from '../../adapters/matrix/errors.js';
import type { RoomRecord } from '../../adapters/store/rooms.js';
import type { SlugRecord } from '../../adapters/store/room-slugs.js';
import type { RoomContext } from './context.js';
import type { AliasSync, SlugsNow } from './types.js';
import type { JoinRequest } from '../../vocabulary/join-requests.js';

/** An entity's slugs split by what their aliases should be now. */
export interface SlugPlan {
  current: string;
  slugs: string[];
  /** Old slugs whose alias stays an alternative alias for now. */
  kept: SlugRecord[];
  /** Old slugs past their keep time whose alias is still to be removed. */
  expired: SlugRecord[];
}

/** Pure: where each slug's alias stands at `now`, keeping old aliases for `keepMs`. */
export function planSlugs(history: SlugRecord[], current: string, keepMs: number, now: number): SlugPlan {
  const old = history.filter((s) => s.renamedAt !== null && s.aliasRemovedAt === null);
  return {
    current,
    slugs: history.map((s) => s.slug),
    kept: old.filter((s) => s.renamedAt!.getTime() + keepMs > now),
    expired: old.filter((s) => s.renamedAt!.getTime() + keepMs <= now),
  };
}

/** When the first of these old aliases is due to go (epoch ms), or null. */
export const removalAt = (old: SlugRecord[], keepMs: number): number | null =>
  old.length ? Math.min(...old.map((s) => s.renamedAt!.getTime() + keepMs)) : null;

/** The entity's slugs as stored; its first slug alone when no row names it (a room claimed before 008). */
async function slugsOf(ctx: RoomContext, ref: RoomRef): Promise<{ history: SlugRecord[]; current: string }> {
  const history = await ctx.deps.slugs.history(ref.tenant, ref.kind, ref.slug);
  if (!history.length) return { history: [{ slug: ref.slug, renamedAt: null, aliasRemovedAt: null }], current: ref.slug };
  return { history, current: history.find((s) => s.renamedAt === null)?.slug ?? ref.slug };
}

/** Makes the alias point at the room in the directory; one pointing elsewhere is a failure (RoomInUse). */
export async function pointAt(ctx: RoomContext, alias: string, roomId: string, actions: string[]): Promise<void> {
  const { bot, aliases } = ctx.deps;
  if ((await matrixCall(() => bot.resolveAlias(alias))) === roomId) return;
  try {
    await matrixCall(() => aliases.putAlias(alias, roomId));
    actions.push(`alias ${alias} added`);
  } catch (err) {
    // Put there a moment ago (this activity's earlier attempt) is fine; another room's is not.
    const at = await matrixCall(() => bot.resolveAlias(alias));
    if (at === roomId) return;
    if (at === null) throw err;
    throw ApplicationFailure.create({
      type: FailureType.RoomInUse,
      message: `alias ${alias} points at ${at}, not at this entity's room ${roomId}; remove it there first`,
      nonRetryable: true,
    });
  }
}

/**
 * Pure: the `m.room.canonical_alias` content with the entity's aliases where they stand — `alias`
 * canonical, the `kept` ones alternatives; a canonical alias not `ours` (an adopted room's own,
 * decision 0030) stays canonical, `alias` then first among the alternatives; anyone else's
 * alternatives are left as they are.
 */
export function canonicalContent(
  now: CanonicalAlias,
  alias: string,
  kept: string[],
  ours: (a: string) => boolean,
): CanonicalAlias {
  const others = (now.alt_aliases ?? []).filter((a) => !ours(a));
  if (now.alias !== undefined && !ours(now.alias)) return { ...now, alt_aliases: [alias, ...kept, ...others] };
  return { ...now, alias, alt_aliases: [...kept, ...others] };
}

/** Writes `m.room.canonical_alias` as canonicalContent has it, when it differs; returns what it did. */
export async function writeCanonical(
  ctx: RoomContext,
  ref: RoomRef,
  roomId: string,
  alias: string,
  kept: string[],
): Promise<string[]> {
  const { aliases, userPrefix, serverName } = ctx.deps;
  const ours = (a: string): boolean => a.startsWith(`#${userPrefix}_${ref.tenant}_${ref.kind}_`) && a.endsWith(`:${serverName}`);
  const now = (await matrixCall(() => aliases.canonicalAlias(roomId))) ?? {};
  const next = canonicalContent(now, alias, kept, ours);
  const same = now.alias === next.alias && (now.alt_aliases ?? []).join('\n') === (next.alt_aliases ?? []).join('\n');
  if (same) return [];
  await matrixCall(() => aliases.setCanonicalAlias(roomId, next));
  const also = kept.length ? ` (also ${kept.join(', ')})` : '';
  return [
    next.alias === alias
      ? `canonical alias ${alias}${also}`
      : `alternative alias ${alias}${also} beside the canonical ${next.alias}`,
  ];
}

/** Brings the room's aliases to where the entity's slugs stand; a never-renamed room is left alone. */
export async function syncAliases(ctx: RoomContext, input: { ref: RoomRef; roomId: string }): Promise<AliasSync> {
  const { ref, roomId } = input;
  const { bot, slugs, oldAliasKeepMs } = ctx.deps;
  const { history, current } = await slugsOf(ctx, ref);
  const plan = planSlugs(history, current, oldAliasKeepMs, Date.now());
  const alias = ctx.aliasOf({ ...ref, slug: plan.current });
  const actions: string[] = [];
  if (plan.slugs.length > 1) {
    const kept = plan.kept.map((s) => ctx.aliasOf({ ...ref, slug: s.slug }));
    for (const a of [alias, ...kept]) await pointAt(ctx, a, roomId, actions);
    actions.push(...(await writeCanonical(ctx, ref, roomId, alias, kept)));
    // Out of the canonical alias event first: the homeserver refuses an event naming a missing alias.
    for (const s of plan.expired) {
      const old = ctx.aliasOf({ ...ref, slug: s.slug });
      if ((await matrixCall(() => bot.resolveAlias(old))) === roomId) {
        await matrixCall(() => bot.deleteAlias(old));
        actions.push(`old alias ${old} removed`);
      }
      await slugs.aliasRemoved(ref.tenant, ref.kind, s.slug);
    }
    await slugs.setAlias(ref.tenant, ref.kind, ref.slug, alias);
  }
  return { slug: plan.current, slugs: plan.slugs, alias, aliasRemovalAt: removalAt(plan.kept, oldAliasKeepMs), actions };
}

/** The stored room, with where its slugs stand when it has been renamed (a new run picks the timer up again). */
export async function loadRoom(
  ctx: RoomContext,
  ref: RoomRef,
): Promise<(RoomRecord & { renamed?: SlugsNow; requests?: JoinRequest[] }) | null> {
  const found = await ctx.deps.rooms.get(ref.tenant, ref.kind, ref.slug);
  if (!found) return null;
  // Its join requests, for the workflow's query (decision 0055); none recorded: left out.
  const requests = (await ctx.deps.joinRequests?.list(ref)) ?? [];
  const stored = requests.length ? { ...found, requests } : found;
  const { history, current } = await slugsOf(ctx, ref);
  if (history.length < 2) return stored;
  const now = Date.now();
  const plan = planSlugs(history, current, ctx.deps.oldAliasKeepMs, now);
  // A rename whose aliases never followed (its update did not reach the workflow) is due at once.
  const synced = stored.alias === ctx.aliasOf({ ...ref, slug: plan.current });
  const due = synced ? removalAt([...plan.expired, ...plan.kept], ctx.deps.oldAliasKeepMs) : now;
  return { ...stored, renamed: { slug: plan.current, slugs: plan.slugs, aliasRemovalAt: due } };
}
