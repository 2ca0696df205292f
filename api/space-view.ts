/** A room's place in its group's hierarchy as PostgreSQL records it now (decision 0051), for the room view. */
import type { Db } from '../adapters/store/db.js';
import { createSpaceStore } from '../adapters/store/spaces.js';
import type { RoomRef } from '../vocabulary/contract.js';
import type { SpaceChild } from '../vocabulary/spaces.js';

export interface Hierarchy {
  /** The event's group, or the group itself. */
  group: string | null;
  /** The group's space: for an event room, its parent. */
  spaceId: string | null;
  /** A group's event rooms (active, with a room); empty for an event. */
  children: SpaceChild[];
}

/** `entity` by its first slug (the rooms table's key); nothing for a DM. */
export async function hierarchyOf(db: Db, entity: RoomRef): Promise<{ hierarchy?: Hierarchy }> {
  if (entity.kind === 'dm') return {};
  const store = createSpaceStore(db);
  const group = entity.kind === 'group' ? entity.slug : await store.groupOf(entity.tenant, entity.slug);
  const spaceId = group ? await store.spaceOf(entity.tenant, group) : null;
  const children: SpaceChild[] =
    entity.kind === 'group'
      ? (await store.eventsOf(entity.tenant, entity.slug))
          .filter((e) => e.roomId && e.status === 'active')
          .map((e) => ({ kind: 'event', slug: e.slug, roomId: e.roomId! }))
      : [];
  return { hierarchy: { group, spaceId, children } };
}
