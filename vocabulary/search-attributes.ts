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

/** As the Temporal CLI wants them: `--search-attribute Name=Keyword`. */
export const SEARCH_ATTRIBUTE_NAMES = ['Tenant', 'EntityKind', 'EntitySlug', 'MatrixUserId', 'MatrixRoomId'] as const;

/**
 * The search attributes of a workflow about one entity, in the order the UI lists them: its tenant
 * and kind always, its slug, Matrix user and room where it has them.
 */
export function entityAttributes(e: {
  tenant: string;
  kind: string;
  slug?: string;
  userId?: string;
  roomId?: string;
}): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: TenantKey, value: e.tenant },
    { key: EntityKindKey, value: e.kind },
  ];
  if (e.slug !== undefined) pairs.push({ key: EntitySlugKey, value: e.slug });
  if (e.userId !== undefined) pairs.push({ key: MatrixUserIdKey, value: e.userId });
  if (e.roomId !== undefined) pairs.push({ key: MatrixRoomIdKey, value: e.roomId });
  return pairs;
}
