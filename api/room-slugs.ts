/**
 * From the slug a request names to the room entity (decision 0031): every room route asks here
 * before it reaches the entity's workflow or its rows. A current slug leads to the entity; an old
 * one answers `409 OM_ROOM_RENAMED` with the slug to use; a slug nobody has had is claimed for a
 * new entity by the routes that create one.
 */
import type { RoomSlugStore } from '../adapters/store/room-slugs.js';
import type { RoomRef } from '../vocabulary/contract.js';
import { ApiError } from './errors.js';

/** `409 OM_ROOM_RENAMED` for a request that names the entity by an old slug. */
export function renamedError(ref: Pick<RoomRef, 'kind' | 'slug'>, current: string): ApiError {
  return new ApiError(
    'OM_ROOM_RENAMED',
    `${ref.kind} "${ref.slug}" was renamed to "${current}": send this request with the new slug`,
    { newSlug: current },
  );
}

/**
 * The entity `ref` names, as workflow ids and the rooms table know it (its first slug). With
 * `claim`, a slug no entity has had becomes a new entity's; without, it is returned as it is.
 */
export async function entityOf(slugs: RoomSlugStore, ref: RoomRef, opts: { claim: boolean }): Promise<RoomRef> {
  const route = opts.claim
    ? await slugs.claim(ref.tenant, ref.kind, ref.slug)
    : await slugs.find(ref.tenant, ref.kind, ref.slug);
  if (!route) return ref;
  if (route.current !== ref.slug) throw renamedError(ref, route.current);
  return { ...ref, slug: route.entity };
}

/** Moves the entity to `newSlug` in PostgreSQL (the commit point of a rename); returns the entity. */
export async function renameEntity(slugs: RoomSlugStore, ref: RoomRef, newSlug: string): Promise<RoomRef> {
  const outcome = await slugs.rename(ref.tenant, ref.kind, ref.slug, newSlug);
  if (outcome.ok) return { ...ref, slug: outcome.entity };
  switch (outcome.why) {
    case 'unknown':
      throw new ApiError('M_NOT_FOUND', `no room for ${ref.kind} "${ref.slug}" to rename`);
    case 'renamed':
      throw renamedError(ref, outcome.current);
    case 'taken':
      throw new ApiError(
        'OM_SLUG_TAKEN',
        `${ref.kind} slug "${newSlug}" is (or was) another ${ref.kind}'s: a slug names one entity for good`,
      );
    case 'archived':
      throw new ApiError('OM_ROOM_ARCHIVED', `${ref.kind} "${ref.slug}" is archived: it is not renamed`);
  }
}
