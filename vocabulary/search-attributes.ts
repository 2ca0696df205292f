/**
 * Custom search attributes, registered by the local stack (scripts/stack.sh) and by deployments,
 * so operators can find every workflow of a tenant, an entity or a Matrix id in the Temporal UI.
 */
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

export const TenantKey = defineSearchAttributeKey('Tenant', SearchAttributeType.KEYWORD);
export const EntityKindKey = defineSearchAttributeKey('EntityKind', SearchAttributeType.KEYWORD);
export const EntitySlugKey = defineSearchAttributeKey('EntitySlug', SearchAttributeType.KEYWORD);
export const MatrixUserIdKey = defineSearchAttributeKey('MatrixUserId', SearchAttributeType.KEYWORD);
export const MatrixRoomIdKey = defineSearchAttributeKey('MatrixRoomId', SearchAttributeType.KEYWORD);
/**
 * Every slug a room entity has had (decision 0031): set at start, upserted by the room workflow on
 * a rename, so `EntitySlugs = "old-slug"` finds the entity whatever it is called now.
 */
export const EntitySlugsKey = defineSearchAttributeKey('EntitySlugs', SearchAttributeType.KEYWORD_LIST);

/** Each attribute with its type as the Temporal CLI names it (`--search-attribute Name=Type`). */
export const SEARCH_ATTRIBUTES = {
  Tenant: 'Keyword',
  EntityKind: 'Keyword',
  EntitySlug: 'Keyword',
  MatrixUserId: 'Keyword',
  MatrixRoomId: 'Keyword',
  EntitySlugs: 'KeywordList',
} as const;
export const SEARCH_ATTRIBUTE_NAMES = Object.keys(SEARCH_ATTRIBUTES) as (keyof typeof SEARCH_ATTRIBUTES)[];

/**
 * The search attributes of a workflow about one entity, in the order the UI lists them: its tenant
 * and kind always, its slug, Matrix user and room where it has them, and a room's slugs.
 */
export function entityAttributes(e: {
  tenant: string;
  kind: string;
  slug?: string;
  userId?: string;
  roomId?: string;
  slugs?: string[];
}): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: TenantKey, value: e.tenant },
    { key: EntityKindKey, value: e.kind },
  ];
  if (e.slug !== undefined) pairs.push({ key: EntitySlugKey, value: e.slug });
  if (e.userId !== undefined) pairs.push({ key: MatrixUserIdKey, value: e.userId });
  if (e.roomId !== undefined) pairs.push({ key: MatrixRoomIdKey, value: e.roomId });
  if (e.slugs !== undefined) pairs.push({ key: EntitySlugsKey, value: e.slugs });
  return pairs;
}
